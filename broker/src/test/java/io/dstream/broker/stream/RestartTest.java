package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A clean stop and start on the same data dir keeps sequences, deletions and state. */
class RestartTest {

  @Test
  void sequencesDeletionsAndStateSurviveARestart() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestBroker broker = TestBroker.start(vertx)) {
      JsonObject state = new JsonObject().put("cursor", 42);
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "restart.me", TestBroker.API_KEY)) {
        for (int i = 1; i <= 3; i++) {
          client.request(new JsonObject().put("n", i));
        }
        client.request(new JsonObject().put("cmd", "putState").put("state", state));
        client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 1));
      }
      broker.stop();
      broker.restart();
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "restart.me", TestBroker.API_KEY)) {
        JsonObject stream = client.command("getStreamInfo").getJsonObject("stream");
        assertEquals(2L, stream.getLong("firstSequence"));
        assertEquals(3L, stream.getLong("lastSequence"));
        assertEquals(2L, stream.getLong("messages"));
        assertEquals(state, client.command("getState").getJsonObject("state"));
        assertEquals(4L, client.request("after restart").getLong("sequence"));
        client.command("subscribe");
        assertEquals(2, client.nextPush().getJsonObject("data").getInteger("n"));
      }
    } finally {
      vertx.close().await();
    }
  }
}
