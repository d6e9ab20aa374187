package io.dstream.broker.ws;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code putState} keeps the state's JSON text as sent, like published data, across a restart too. */
@ExtendWith(VertxExtension.class)
class StateRoundTripTest {

  private static final String STATE =
      "{\"huge\":1e400,\"tiny\":1e-400,\"precise\":0.1000000000000000055511151231257827,\"lone\":\"\\ud800\"}";

  private static String stateOf(String reply) {
    int start = reply.indexOf("\"state\":") + "\"state\":".length();
    return reply.substring(start, start + STATE.length());
  }

  @Test
  void stateKeepsNumbersAndEscapesByteForByte(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, Files.createTempDirectory("dstream-state"), b -> b)) {
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "exact.state", TestBroker.API_KEY)) {
        client.sendRaw("{\"data\":{\"cmd\":\"putState\",\"state\":" + STATE + "},\"cMsgId\":1,\"clientId\":1}");
        V1TestClient.take(client.replies, 10);
        client.sendRaw("{\"data\":{\"cmd\":\"getState\"},\"cMsgId\":2,\"clientId\":1}");
        assertEquals(STATE, stateOf(V1TestClient.take(client.replies, 10)));
      }
      broker.stop();
      broker.restart();
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "exact.state", TestBroker.API_KEY)) {
        client.sendRaw("{\"data\":{\"cmd\":\"getState\"},\"cMsgId\":3,\"clientId\":1}");
        assertEquals(STATE, stateOf(V1TestClient.take(client.replies, 10)), "after a restart");
      }
      Buffer admin = WebClient.create(vertx).get(broker.port(), "127.0.0.1", "/admin/subjects/exact.state")
          .putHeader("auth", TestBroker.API_KEY).send().await().body();
      assertTrue(admin.toString().endsWith(",\"state\":" + STATE + "}"), admin.toString());
    }
  }
}
