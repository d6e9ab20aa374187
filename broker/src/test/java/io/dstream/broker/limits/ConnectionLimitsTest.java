package io.dstream.broker.limits;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every per-client bound refuses the excess with a clear answer and keeps serving the rest. */
@ExtendWith(VertxExtension.class)
class ConnectionLimitsTest {

  private static ConnectionLimits limits(int connections, double rate, int burst, long graceMs, int subjects) {
    ConnectionLimits defaults = ConnectionLimits.DEFAULT;
    return new ConnectionLimits(connections, rate, burst, Duration.ofMillis(graceMs), subjects, defaults.idleTimeout(),
        defaults.requestHeaderTimeout(), defaults.pingInterval());
  }

  @Test
  void connectionsOverTheLimitGet503AndTheOthersKeepWorking(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.connectionLimits(limits(2, 1000, 100, 30_000, 100)));
         V1TestClient first = V1TestClient.connect(vertx, broker.port(), "held", TestBroker.API_KEY)) {
      V1TestClient second = V1TestClient.connect(vertx, broker.port(), "held", TestBroker.API_KEY);
      UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class,
          () -> V1TestClient.connect(vertx, broker.port(), "held", TestBroker.API_KEY));
      assertEquals(503, refused.getStatus());
      assertEquals(1L, first.request(new JsonObject().put("n", 1)).getLong("sequence"));
      second.close();
      WebClient http = WebClient.create(vertx, new WebClientOptions().setKeepAlive(false));
      HttpResponse<Buffer> health = awaitStatus(http, broker.port(), 200);
      assertEquals(200, health.statusCode(), "a freed slot is usable again");
    }
  }

  private static HttpResponse<Buffer> awaitStatus(WebClient http, int port, int status) throws InterruptedException {
    HttpResponse<Buffer> response = null;
    for (int attempt = 0; attempt < 50; attempt++) {
      response = http.get(port, "127.0.0.1", "/health").send().await();
      if (response.statusCode() == status) {
        return response;
      }
      Thread.sleep(100);
    }
    return response;
  }

  @Test
  void requestsOverTheRateAreRefusedAndNotCarriedOut(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.connectionLimits(limits(100, 1, 5, 30_000, 100)));
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "rated", TestBroker.API_KEY)) {
      int sent = 20;
      for (int i = 0; i < sent; i++) {
        client.send(new JsonObject().put("n", i));
      }
      int stored = 0;
      int limited = 0;
      for (int i = 0; i < sent; i++) {
        JsonObject reply = client.nextReply();
        if (reply.containsKey("error")) {
          assertEquals("rate_limited", reply.getJsonObject("error").getString("code"));
          assertTrue(reply.containsKey("cMsgId"), "the refusal names the request");
          limited++;
        } else {
          stored++;
        }
      }
      assertTrue(stored >= 5 && stored <= 7, "the burst of 5 (plus refill) got through: " + stored);
      assertEquals(sent, stored + limited);
      try (V1TestClient other = V1TestClient.connect(vertx, broker.port(), "rated", TestBroker.API_KEY)) {
        JsonObject info = other.command("getStreamInfo");
        assertEquals(stored, info.getLong("sequence").intValue(), "refused publishes stored nothing");
      }
    }
  }

  @Test
  void subjectsOverTheActiveLimitAreRefusedWith503(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.connectionLimits(limits(100, 1000, 100, 30_000, 2)));
         V1TestClient a = V1TestClient.connect(vertx, broker.port(), "a", TestBroker.API_KEY);
         V1TestClient b = V1TestClient.connect(vertx, broker.port(), "b", TestBroker.API_KEY)) {
      assertFalse(a.socket().isClosed() || b.socket().isClosed(), "both subjects hold an active actor");
      UpgradeRejectedException refused = assertThrows(UpgradeRejectedException.class,
          () -> V1TestClient.connect(vertx, broker.port(), "c", TestBroker.API_KEY));
      assertEquals(503, refused.getStatus());
      try (V1TestClient again = V1TestClient.connect(vertx, broker.port(), "a", TestBroker.API_KEY)) {
        assertEquals(1L, again.request(new JsonObject().put("n", 1)).getLong("sequence"), "active subjects still work");
      }
    }
  }

  /**
   * A subscriber that never reads: pushes fill the TCP buffers, then the socket's outbound queue;
   * after the grace period the broker closes it instead of holding more.
   */
  @Test
  void aSubscriberThatStopsReadingIsClosedAfterTheGracePeriod(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.maxInFlight(10_000)
        .connectionLimits(limits(100, 100_000, 100_000, 500, 100)));
         V1TestClient producer = V1TestClient.connect(vertx, broker.port(), "flood", TestBroker.API_KEY)) {
      NetClient tcp = vertx.createNetClient();
      NetSocket silent = tcp.connect(broker.port(), "127.0.0.1").await();
      CompletableFuture<Void> upgraded = new CompletableFuture<>();
      silent.handler(data -> {
        if (!upgraded.isDone() && data.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 101")) {
          upgraded.complete(null);
          silent.pause();
        }
      });
      silent.write("GET /stream/flood?apiKey=" + TestBroker.API_KEY + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
          + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
          + "Sec-WebSocket-Version: 13\r\n\r\n").await();
      upgraded.get(10, TimeUnit.SECONDS);
      String subscribe = "{\"data\":{\"cmd\":\"subscribe\",\"startSequence\":1},\"cMsgId\":1,\"clientId\":1}";
      silent.write(Buffer.buffer(SilentWebSocket.maskedTextFrame(subscribe))).await();

      // A paused socket never reads the server's FIN either, so the broker's metric tells of the close.
      String payload = "x".repeat(60_000);
      long published = 0;
      for (int i = 0; i < 400 && broker.broker().metrics().slowConsumersClosed.count() < 1; i++) {
        published = producer.request(new JsonObject().put("blob", payload)).getLong("sequence");
      }
      for (int i = 0; i < 100 && broker.broker().metrics().slowConsumersClosed.count() < 1; i++) {
        Thread.sleep(100);
      }
      assertEquals(1.0, broker.broker().metrics().slowConsumersClosed.count(), "the silent subscriber was closed");
      assertEquals(published + 1, producer.request(new JsonObject().put("after", true)).getLong("sequence"),
          "publishing goes on after the slow subscriber was cut");
      tcp.close().await();
    }
  }

  @Test
  void slowlorisConnectionsAreClosedAndIdleWebSocketsAreKeptAliveByPings(Vertx vertx) throws Exception {
    ConnectionLimits limits = ConnectionLimits.DEFAULT.withTimeouts(Duration.ofMillis(1500), Duration.ofMillis(500),
        Duration.ofMillis(300));
    try (TestBroker broker = TestBroker.start(vertx, b -> b.connectionLimits(limits));
         V1TestClient idle = V1TestClient.connect(vertx, broker.port(), "quiet", TestBroker.API_KEY)) {
      NetClient tcp = vertx.createNetClient();
      NetSocket slow = tcp.connect(broker.port(), "127.0.0.1").await();
      CompletableFuture<Void> slowClosed = new CompletableFuture<>();
      slow.closeHandler(v -> slowClosed.complete(null));
      slow.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n").await();
      long trickleId = vertx.setPeriodic(100, id -> slow.write("X-Slow: 1\r\n"));
      slowClosed.get(5, TimeUnit.SECONDS);
      vertx.cancelTimer(trickleId);
      assertTrue(broker.broker().metrics().slowRequestsClosed.count() >= 1);

      NetSocket keptIdle = tcp.connect(broker.port(), "127.0.0.1").await();
      CompletableFuture<Void> idleClosed = new CompletableFuture<>();
      keptIdle.closeHandler(v -> idleClosed.complete(null));
      keptIdle.write("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").await();
      idleClosed.get(5, TimeUnit.SECONDS);

      Thread.sleep(2_500);
      assertEquals(1L, idle.request(new JsonObject().put("n", 1)).getLong("sequence"),
          "a WebSocket silent for longer than the idle timeout is kept open by pings");
      tcp.close().await();
    }
  }
}
