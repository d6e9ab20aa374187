package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** A clean stop and start on the same data dir keeps sequences, deletions and state; delivery ids never repeat. */
@ExtendWith(VertxExtension.class)
class RestartTest {

  @Test
  void sequencesDeletionsAndStateSurviveARestart(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx)) {
      JsonObject state = new JsonObject().put("cursor", 42);
      long deliveryIdBeforeRestart;
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "restart.me", TestBroker.API_KEY)) {
        for (int i = 1; i <= 3; i++) {
          client.request(new JsonObject().put("n", i));
        }
        client.request(new JsonObject().put("cmd", "putState").put("state", state));
        client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 1));
        client.command("subscribe");
        deliveryIdBeforeRestart = client.nextPush().getLong("sMsgId");
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
        JsonObject push = client.nextPush();
        assertEquals(2, push.getJsonObject("data").getInteger("n"));
        assertTrue(push.getLong("sMsgId") > deliveryIdBeforeRestart, "a delivery id repeated across a restart");
        assertTrue(push.getLong("sMsgId") < (1L << 53), "delivery ids must be exact in JavaScript");
      }
    }
  }
}
