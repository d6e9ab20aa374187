package io.dstream.broker.limits;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The memory budget (docs/security.md#memory-budget): what a client that stops reading makes the
 * broker hold is bounded by its socket's budget, a socket over it is really closed after the grace
 * period, redelivery waits for earlier pushes to leave, and the broker-wide budget refuses new work.
 */
@ExtendWith(VertxExtension.class)
class MemoryBudgetTest {

  private static final long SOCKET_BUDGET = 256 * 1024;

  private static ConnectionLimits graceMs(long graceMs) {
    ConnectionLimits d = ConnectionLimits.DEFAULT;
    return new ConnectionLimits(d.maxConnections(), d.requestsPerSecond(), d.requestBurst(), Duration.ofMillis(graceMs),
        d.maxActiveSubjects(), d.idleTimeout(), d.requestHeaderTimeout(), d.pingInterval());
  }

  static double held(TestBroker broker) {
    return broker.broker().metrics().registry().get("dstream_memory_budget_held_bytes").gauge().value();
  }

  /** Waits up to 20 s for {@code condition}, recording the largest holding meanwhile. */
  private static double maxHeldUntil(TestBroker broker, String what, BooleanSupplier condition) throws Exception {
    double max = 0;
    for (int i = 0; i < 400 && !condition.getAsBoolean(); i++) {
      max = Math.max(max, held(broker));
      Thread.sleep(50);
    }
    assertTrue(condition.getAsBoolean(), what);
    return max;
  }

  /** A slow-consumer close takes the socket down for real: the gauge drops and the client sees EOF. */
  private static void assertReallyClosed(TestBroker broker, SilentWebSocket silent, int socketsLeft) throws Exception {
    BrokerMetrics metrics = broker.broker().metrics();
    maxHeldUntil(broker, "the gauge dropped", () -> metrics.webSockets().get() == socketsLeft);
    silent.drain();
    assertTrue(silent.closedWithin(5_000), "the client saw the connection end");
    maxHeldUntil(broker, "everything the socket held was released", () -> held(broker) == 0);
  }

  @Test
  void getStateRepliesThatAreNeverReadAreBoundedByTheSocketBudget(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.connectionBudgetBytes(SOCKET_BUDGET)
        .connectionLimits(graceMs(1_000)));
         V1TestClient writer = V1TestClient.connect(vertx, broker.port(), "big.state", TestBroker.API_KEY);
         SilentWebSocket silent = SilentWebSocket.connect(broker.port(), "big.state", TestBroker.API_KEY)) {
      String big = "y".repeat(100_000);
      writer.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("big", big)));
      for (int i = 0; i < 300; i++) {
        silent.request("{\"cmd\":\"getState\"}");
      }
      BrokerMetrics metrics = broker.broker().metrics();
      double max = maxHeldUntil(broker, "the silent socket was closed", () -> metrics.slowConsumersClosed.count() >= 1);
      // One getState at a time: it reserves the largest state (1 MiB); 300 replies would be 30 MB.
      assertTrue(max <= SOCKET_BUDGET + 1024 * 1024 + 4096, "held " + max + " bytes");
      assertReallyClosed(broker, silent, 1);
      assertEquals(2L, writer.request(new JsonObject().put("still", "served")).getLong("sequence") + 1);
    }
  }

  /**
   * The window is larger than what the kernel's buffers take (the send buffer grows to 4 MiB on
   * loopback), so pushes pile up in the broker until the budget stops them.
   */
  @Test
  void aSubscriberThatNeverReadsHoldsAtMostItsBudgetAndIsReallyClosed(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.connectionBudgetBytes(SOCKET_BUDGET).maxInFlight(10_000)
        .connectionLimits(graceMs(1_000)));
         V1TestClient producer = V1TestClient.connect(vertx, broker.port(), "wide", TestBroker.API_KEY)) {
      String payload = "z".repeat(16 * 1024);
      for (int i = 0; i < 600; i++) {
        producer.request(new JsonObject().put("n", i).put("blob", payload));
      }
      try (SilentWebSocket silent = SilentWebSocket.connect(broker.port(), "wide", TestBroker.API_KEY)) {
        silent.request("{\"cmd\":\"subscribe\",\"startSequence\":1}");
        BrokerMetrics metrics = broker.broker().metrics();
        double max = maxHeldUntil(broker, "the silent subscriber was closed",
            () -> metrics.slowConsumersClosed.count() >= 1);
        // 600 pushes of 16 KiB would be 9.6 MB; the budget stops pushes at 256 KiB plus one.
        assertTrue(max <= SOCKET_BUDGET + 2 * 17_000, "held " + max + " bytes");
        assertTrue(max > SOCKET_BUDGET / 2, "the subscriber did fill its budget (" + max + ")");
        assertReallyClosed(broker, silent, 1);
      }
      assertEquals(601L, producer.request(new JsonObject().put("after", true)).getLong("sequence"));
    }
  }

  @Test
  void redeliveryNeverResendsToASocketWhosePushesHaveNotLeft(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.connectionBudgetBytes(SOCKET_BUDGET)
        .ackTimeout(Duration.ofMillis(200)).connectionLimits(graceMs(60_000)));
         V1TestClient producer = V1TestClient.connect(vertx, broker.port(), "resend", TestBroker.API_KEY)) {
      String payload = "r".repeat(64 * 1024);
      for (int i = 0; i < 120; i++) {
        producer.request(new JsonObject().put("n", i).put("blob", payload));
      }
      BrokerMetrics metrics = broker.broker().metrics();
      try (SilentWebSocket silent = SilentWebSocket.connect(broker.port(), "resend", TestBroker.API_KEY)) {
        silent.request("{\"cmd\":\"subscribe\",\"startSequence\":1}");
        maxHeldUntil(broker, "pushes are stuck in the socket", () -> held(broker) > SOCKET_BUDGET / 2);
        Thread.sleep(1_500);
        assertEquals(0.0, metrics.redelivered.count(), "nothing is resent while the first pushes have not left");
        assertTrue(held(broker) > 0);
      }
      // The control: a subscriber that reads but does not ack does get its redelivery.
      try (V1TestClient reader = V1TestClient.connect(vertx, broker.port(), "resend", TestBroker.API_KEY)) {
        reader.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 120));
        assertEquals(120L, reader.nextPush().getLong("sequence"));
        assertEquals(120L, reader.nextPush().getLong("sequence"), "redelivered after the ack timeout");
      }
    }
  }

  @Test
  void theBrokerWideBudgetRefusesNewWorkWithOverloaded(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.memoryBudgetBytes(1024 * 1024)
        .connectionBudgetBytes(8 * 1024 * 1024).connectionLimits(graceMs(60_000)));
         V1TestClient producer = V1TestClient.connect(vertx, broker.port(), "full", TestBroker.API_KEY)) {
      String payload = "f".repeat(64 * 1024);
      for (int i = 0; i < 150; i++) {
        producer.request(new JsonObject().put("n", i).put("blob", payload));
      }
      WebClient http = WebClient.create(vertx);
      try (SilentWebSocket silent = SilentWebSocket.connect(broker.port(), "full", TestBroker.API_KEY)) {
        silent.request("{\"cmd\":\"subscribe\",\"startSequence\":1}");
        maxHeldUntil(broker, "the budget is exhausted", () -> held(broker) >= 1024 * 1024);
        JsonObject refused = producer.request(new JsonObject().put("n", "refused"));
        assertEquals("overloaded", refused.getJsonObject("error").getString("code"));
        HttpResponse<Buffer> post = http.post(broker.port(), "127.0.0.1", "/stream/full")
            .putHeader("auth", TestBroker.API_KEY).sendJsonObject(new JsonObject().put("records",
                new io.vertx.core.json.JsonArray().add("r"))).await();
        assertEquals(503, post.statusCode());
        assertEquals("1", post.getHeader("Retry-After"));
        assertEquals("overloaded", post.bodyAsJsonObject().getJsonObject("error").getString("code"));
        assertTrue(broker.broker().metrics().overloaded.count() >= 2);
      }
      maxHeldUntil(broker, "the closed socket released its bytes", () -> held(broker) == 0);
      assertEquals(151L, producer.request(new JsonObject().put("n", "accepted")).getLong("sequence"),
          "the refused publish stored nothing, the next one is served");
    }
  }
}
