package io.dstream.broker.limits;

import io.dstream.broker.BrokerProcess;
import io.dstream.broker.files.TrickledUpload;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attacks of issue 13 against a real broker process with {@code -Xmx512m} and the default
 * budgets, at counts sized for the 2-core CI machine: subscribers that never read, {@code getState}
 * replies that are never read, trickled uploads and reads of subjects that do not exist. Throughout,
 * the heap stays under 90 % of its maximum, the budget under its limit, {@code /health} answers, a
 * well-behaved client's publish round trip and push lag stay within three times their unloaded
 * values, every abusive socket is closed, and nothing acknowledged is lost.
 */
@Tag("slow")
class MemoryBudgetStressTest {

  private static final String KEY = "stress-key";
  private static final long HEAP_BYTES = 512L << 20;
  private static final int SILENT_SUBSCRIBERS = 150;
  private static final int SILENT_GETTERS = 5;
  private static final int TRICKLED_UPLOADS = 16;

  /** A publisher and a subscriber that reads and acks everything: the client that must not suffer. */
  private static final class WellBehaved implements AutoCloseable {
    final V1TestClient publisher;
    final V1TestClient subscriber;
    final List<Long> acknowledged = new ArrayList<>();

    WellBehaved(Vertx vertx, int port) {
      publisher = V1TestClient.connect(vertx, port, "good", KEY);
      subscriber = V1TestClient.connect(vertx, port, "good", KEY);
      subscriber.request(new JsonObject().put("cmd", "subscribe"));
    }

    /** Median publish round trip and push lag (publish sent to push received) of {@code count} publishes, in µs. */
    long[] medians(int count) throws InterruptedException {
      long[] roundTrips = new long[count];
      long[] lags = new long[count];
      for (int i = 0; i < count; i++) {
        long start = System.nanoTime();
        JsonObject reply = publisher.request(new JsonObject().put("good", acknowledged.size()));
        roundTrips[i] = (System.nanoTime() - start) / 1000;
        acknowledged.add(reply.getLong("sequence"));
        JsonObject push = subscriber.nextPush();
        lags[i] = (System.nanoTime() - start) / 1000;
        subscriber.ack(push);
        Thread.sleep(10);
      }
      Arrays.sort(roundTrips);
      Arrays.sort(lags);
      return new long[] {roundTrips[count / 2], lags[count / 2]};
    }

    @Override
    public void close() {
      publisher.close();
      subscriber.close();
    }
  }

  /** Within three times the unloaded value; 2 ms of slack for timer granularity on a busy machine. */
  private static void assertWithinThreeTimes(long[] unloaded, long[] loaded, String attack) {
    assertTrue(loaded[0] <= 3 * unloaded[0] + 2_000, attack + ": publish round trip " + loaded[0] + " µs, unloaded "
        + unloaded[0] + " µs");
    assertTrue(loaded[1] <= 3 * unloaded[1] + 2_000, attack + ": push lag " + loaded[1] + " µs, unloaded "
        + unloaded[1] + " µs");
  }

  private static void awaitMetric(BrokerMonitor monitor, String series, double expected) throws InterruptedException {
    for (int i = 0; i < 600 && monitor.read(series) != expected; i++) {
      Thread.sleep(100);
    }
    assertEquals(expected, monitor.read(series), series);
  }

  /** Every abusive socket was closed by the broker: reading again, each sees the end of its connection. */
  private static void assertAllClosed(List<SilentWebSocket> sockets) throws InterruptedException {
    sockets.forEach(SilentWebSocket::drain);
    for (SilentWebSocket socket : sockets) {
      assertTrue(socket.closedWithin(10_000), "an abusive socket was left open");
      socket.close();
    }
  }

  /** The broker's warnings, and its whole log in target/ for a closer look. */
  private static String warnings(BrokerProcess broker) throws java.io.IOException {
    Path log = Path.of("target", "stress-broker.log");
    Files.write(log, broker.output());
    return log.toAbsolutePath() + "\n" + String.join("\n", broker.output().stream()
        .filter(line -> line.contains("WARN") || line.contains("ERROR")).limit(20).toList());
  }

  @Test
  void noClientCanTakeTheBrokerDown() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (BrokerProcess broker = BrokerProcess.start(List.of("-Xmx512m"), Map.of(
        "DSTREAM_SLOW_CONSUMER_GRACE_MS", "5000", "DSTREAM_ACK_TIMEOUT_MS", "3000", "DSTREAM_MAX_IN_FLIGHT", "1024",
        "DSTREAM_TRUSTED_PROXIES", "127.0.0.1", "DSTREAM_FILES_MIN_UPLOAD_INTERVAL_MS", "4000"),
        Files.createTempDirectory("dstream-stress"), KEY);
         BrokerMonitor monitor = new BrokerMonitor(vertx, broker.port(), KEY);
         WellBehaved good = new WellBehaved(vertx, broker.port())) {
      good.medians(20);
      long[] unloaded = good.medians(40);
      List<long[]> loaded = new ArrayList<>();

      // 1. Subscribers that never read, on a subject with 600 messages of 8 KB. Their window (1024) is
      // larger than what the kernel's buffers take, so the rest piles up in the broker, up to the budget.
      try (V1TestClient producer = V1TestClient.connect(vertx, broker.port(), "wide", KEY)) {
        String blob = "w".repeat(8192);
        for (int i = 0; i < 600; i++) {
          producer.request(new JsonObject().put("n", i).put("blob", blob));
        }
      }
      List<SilentWebSocket> subscribers = new ArrayList<>();
      for (int i = 0; i < SILENT_SUBSCRIBERS; i++) {
        SilentWebSocket silent = SilentWebSocket.connect(broker.port(), "wide", KEY);
        silent.request("{\"cmd\":\"subscribe\",\"startSequence\":1}");
        subscribers.add(silent);
      }
      loaded.add(good.medians(40));
      assertWithinThreeTimes(unloaded, loaded.get(0), "silent subscribers");
      awaitMetric(monitor, "dstream_websockets", 2);
      assertAllClosed(subscribers);

      // 2. getState replies that are never read.
      try (V1TestClient writer = V1TestClient.connect(vertx, broker.port(), "big.state", KEY)) {
        writer.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("s", "s".repeat(500_000))));
      }
      List<SilentWebSocket> getters = new ArrayList<>();
      for (int i = 0; i < SILENT_GETTERS; i++) {
        SilentWebSocket silent = SilentWebSocket.connect(broker.port(), "big.state", KEY);
        for (int request = 0; request < 600; request++) {
          silent.request("{\"cmd\":\"getState\"}");
        }
        getters.add(silent);
      }
      loaded.add(good.medians(40));
      assertWithinThreeTimes(unloaded, loaded.get(1), "unread getState replies");
      awaitMetric(monitor, "dstream_websockets", 2);
      assertAllClosed(getters);

      // 3. Trickled uploads: the file API keeps serving a well-behaved client meanwhile.
      WebClient http = WebClient.create(vertx);
      List<TrickledUpload> uploads = new ArrayList<>();
      for (int i = 0; i < TRICKLED_UPLOADS; i++) {
        uploads.add(new TrickledUpload(vertx, broker.port(), KEY, "trickle-" + i, "10.6.6.6"));
      }
      assertEquals(200, http.put(broker.port(), "127.0.0.1", "/r2/good-file").putHeader("auth", KEY)
          .putHeader("X-Forwarded-For", "10.0.0.1").sendBuffer(Buffer.buffer("good")).await().statusCode());
      assertEquals("good", http.get(broker.port(), "127.0.0.1", "/r2/good-file").putHeader("auth", KEY).send().await()
          .bodyAsString());
      assertEquals(200, http.get(broker.port(), "127.0.0.1", "/r2/").putHeader("auth", KEY).send().await().statusCode());
      for (TrickledUpload upload : uploads) {
        String status = upload.status(30);
        assertTrue(status.contains(" 503 ") || status.contains(" 408 "), "refused or cut: " + status);
        upload.close();
      }

      // 4. Reads of subjects that do not exist create none.
      for (int i = 0; i < 500; i++) {
        http.get(broker.port(), "127.0.0.1", "/stream/never." + i + "?offset=-").putHeader("auth", KEY).send().await();
      }
      JsonObject subjects = http.get(broker.port(), "127.0.0.1", "/admin/subjects").putHeader("auth", KEY).send().await()
          .bodyAsJsonObject();
      assertEquals(3, subjects.getJsonArray("subjects").size(), "good, wide and big.state only: " + subjects);

      assertEquals(0, monitor.healthFailures.get(), "health asked " + monitor.healthChecks.get() + " times, slowest "
          + monitor.maxHealthMillis.get() + " ms; the broker's warnings: " + warnings(broker));
      assertEquals(0, monitor.metricsFailures.get(), "metrics failed");
      assertTrue(monitor.healthChecks.get() >= 20, "health was asked all along: " + monitor.healthChecks.get());
      assertTrue(monitor.maxHeapBytes.get() < 0.9 * HEAP_BYTES, "heap reached " + monitor.maxHeapBytes.get());
      assertTrue(monitor.maxHeldBytes.get() <= monitor.budgetLimitBytes, "budget held " + monitor.maxHeldBytes.get());
      System.out.printf("MemoryBudgetStressTest: round trip / push lag medians (µs) unloaded %d / %d, under silent "
          + "subscribers %d / %d, under unread replies %d / %d; heap max %d MiB; budget held max %d of %.0f bytes; "
          + "slowest health check %d ms%n", unloaded[0], unloaded[1], loaded.get(0)[0], loaded.get(0)[1],
          loaded.get(1)[0], loaded.get(1)[1], monitor.maxHeapBytes.get() >> 20, monitor.maxHeldBytes.get(),
          monitor.budgetLimitBytes, monitor.maxHealthMillis.get());
      try (V1TestClient reader = V1TestClient.connect(vertx, broker.port(), "good", KEY)) {
        reader.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
        for (long sequence : good.acknowledged) {
          JsonObject push = reader.nextPush();
          assertEquals(sequence, push.getLong("sequence"), "an acknowledged message is missing");
          reader.ack(push);
        }
      }
    } finally {
      vertx.close().await();
    }
  }
}
