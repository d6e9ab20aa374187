package io.dstream.broker.http;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The stored {@code ip}: X-Forwarded-For counts only when the peer is a trusted proxy. */
@ExtendWith(VertxExtension.class)
class ClientAddressTest {

  private static String storedIp(Vertx vertx, TestBroker broker, String forwardedFor) {
    try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "ip.test", TestBroker.API_KEY,
        Map.of("X-Forwarded-For", forwardedFor))) {
      return client.request("x").getString("ip");
    }
  }

  @Test
  void forwardedForFromAnUntrustedPeerIsIgnored(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx)) {
      assertEquals("127.0.0.1", storedIp(vertx, broker, "203.0.113.7"));
    }
  }

  @Test
  void forwardedForFromATrustedProxyNamesTheRightmostUntrustedHop(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.trustedProxies(List.of("127.0.0.0/8", "10.0.0.0/8")))) {
      assertEquals("203.0.113.7", storedIp(vertx, broker, "203.0.113.7"));
      assertEquals("198.51.100.1", storedIp(vertx, broker, "203.0.113.7, 198.51.100.1, 10.1.2.3"), "left entries can be forged");
      assertEquals("127.0.0.1", storedIp(vertx, broker, "not-an-ip"));
    }
  }
}
