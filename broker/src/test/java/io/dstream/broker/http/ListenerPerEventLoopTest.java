package io.dstream.broker.http;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * On a fixed port the broker runs one listener per event loop (the other tests use port 0, where it
 * keeps one): connections accepted by different listeners reach the same actors, and the one
 * {@link ConnectionGate} counts them all.
 */
@ExtendWith(VertxExtension.class)
class ListenerPerEventLoopTest {

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static ConnectionLimits maxConnections(int connections) {
    ConnectionLimits d = ConnectionLimits.DEFAULT;
    return new ConnectionLimits(connections, d.requestsPerSecond(), d.requestBurst(), d.slowConsumerGrace(),
        d.maxActiveSubjects(), d.idleTimeout(), d.requestHeaderTimeout(), d.pingInterval());
  }

  @Test
  void socketsOnEveryListenerShareTheActorsAndTheConnectionLimit(Vertx vertx) throws Exception {
    assertTrue(VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE > 1, "needs more than one event loop to spread over");
    int sockets = 2 * VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE;
    int port = freePort();
    try (TestBroker broker = TestBroker.start(vertx, b -> b.port(port).connectionLimits(maxConnections(sockets)))) {
      assertEquals(port, broker.port());
      List<V1TestClient> subscribers = new ArrayList<>();
      for (int i = 0; i < sockets - 1; i++) {
        V1TestClient subscriber = V1TestClient.connect(vertx, port, "spread", TestBroker.API_KEY);
        assertEquals(0L, subscriber.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1))
            .getLong("sequence"));
        subscribers.add(subscriber);
      }
      try (V1TestClient publisher = V1TestClient.connect(vertx, port, "spread", TestBroker.API_KEY)) {
        UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class,
            () -> V1TestClient.connect(vertx, port, "spread", TestBroker.API_KEY));
        assertEquals(503, refused.getStatus(), "the limit counts connections of every listener");
        for (int n = 1; n <= 3; n++) {
          assertEquals(n, publisher.request(new JsonObject().put("n", n)).getLong("sequence"));
        }
        for (V1TestClient subscriber : subscribers) {
          for (int n = 1; n <= 3; n++) {
            JsonObject push = subscriber.nextPush();
            assertEquals(n, push.getLong("sequence"), "every subscriber gets every message in order");
            subscriber.ack(push);
          }
        }
      } finally {
        subscribers.forEach(V1TestClient::close);
      }
    }
  }
}
