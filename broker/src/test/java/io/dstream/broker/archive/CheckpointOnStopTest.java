package io.dstream.broker.archive;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A clean stop writes the checkpoints the interval had not come to yet (DSTREAM_CHECKPOINT_ON_STOP_MS),
 * for subjects in memory and hibernated ones alike, so a data dir lost after the stop loses nothing;
 * with the bucket down the stop waits no longer than its bound.
 */
@ExtendWith(VertxExtension.class)
class CheckpointOnStopTest {

  /** No checkpoint comes from the interval during a test: whatever the bucket gets, the stop wrote. */
  private static final ArchivePolicy LONG_INTERVAL = new ArchivePolicy(Duration.ofMinutes(10), 100_000, 64L << 20,
      Duration.ofDays(1), Duration.ofMillis(50), Duration.ofMillis(400));

  /** A broker on {@code s3} with a data dir of its own (a new one is a lost disk). */
  private static TestBroker broker(Vertx vertx, TestS3 s3, UnaryOperator<BrokerConfig.Builder> more) throws Exception {
    return TestBroker.start(vertx, Files.createTempDirectory("dstream-stop"),
        b -> more.apply(b.s3(s3.settings()).archivePolicy(LONG_INTERVAL).idleTimeout(Duration.ofMillis(200))));
  }

  private static V1TestClient connect(TestBroker broker, String subject) {
    return V1TestClient.connect(broker.vertx, broker.port(), subject, TestBroker.API_KEY);
  }

  private static long checkpointedUpTo(TestBroker broker, String subject) {
    return broker.broker().archive().manifest(subject, 0).await().map(Manifest::lastSequence).orElse(0L);
  }

  /** Publishes 25 messages and a state to {@code live} (its client stays), 7 to {@code hibernated} (it leaves memory). */
  private static void publish(TestBroker broker, V1TestClient live) throws InterruptedException {
    for (int i = 0; i < 25; i++) {
      live.request(new JsonObject().put("n", i));
    }
    live.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("cursor", 25)));
    try (V1TestClient client = connect(broker, "stop.hibernated")) {
      for (int i = 0; i < 7; i++) {
        client.request(new JsonObject().put("n", i));
      }
    }
    // Idle 200 ms, ticked every 50 ms: the subject hibernates and leaves its checkpoint work to the shard.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (broker.broker().metrics().actorsHibernated.count() < 1) {
      assertTrue(System.nanoTime() < deadline, "stop.hibernated left memory");
      Thread.sleep(20);
    }
    assertEquals(0, checkpointedUpTo(broker, "stop.live"), "no checkpoint before the stop");
    assertEquals(0, checkpointedUpTo(broker, "stop.hibernated"), "no checkpoint before the stop");
  }

  @Test
  void aCleanStopCheckpointsWhatTheIntervalHadNotReachedSoALostDataDirLosesNothing(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start()) {
      try (TestBroker first = broker(vertx, s3, b -> b); V1TestClient live = connect(first, "stop.live")) {
        publish(first, live);
        first.stop();
      }
      try (TestBroker restored = broker(vertx, s3, b -> b)) {
        assertEverythingOn(restored);
      }
    }
  }

  /** What {@link #publish} published, on a broker restored from the bucket alone. */
  private static void assertEverythingOn(TestBroker restored) {
    try (V1TestClient client = connect(restored, "stop.live")) {
      assertEquals(25, client.command("getStreamInfo").getJsonObject("stream").getLong("lastSequence"));
      assertEquals(new JsonObject().put("cursor", 25), client.command("getState").getJsonObject("state"));
      client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      for (int i = 0; i < 25; i++) {
        JsonObject push = client.nextPush();
        assertEquals(i + 1, push.getLong("sequence"));
        assertEquals(i, push.getJsonObject("data").getInteger("n"));
        client.ack(push);
      }
    }
    try (V1TestClient client = connect(restored, "stop.hibernated")) {
      assertEquals(7, client.command("getStreamInfo").getJsonObject("stream").getLong("lastSequence"));
      assertEquals(8, client.request(new JsonObject().put("after", "restore")).getLong("sequence"));
    }
  }

  @Test
  void withoutTheLastCheckpointsTheBucketKeepsOnlyWhatTheIntervalWrote(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start()) {
      try (TestBroker first = broker(vertx, s3, b -> b.checkpointOnStop(Duration.ZERO));
           V1TestClient live = connect(first, "stop.live")) {
        publish(first, live);
        first.stop();
      }
      try (TestBroker restored = broker(vertx, s3, b -> b); V1TestClient client = connect(restored, "stop.live")) {
        assertEquals(0, client.command("getStreamInfo").getJsonObject("stream").getLong("lastSequence"));
      }
    }
  }

  @Test
  void aStopWithTheBucketDownWaitsForItsBoundOnly(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start();
         TestBroker first = broker(vertx, s3, b -> b.checkpointOnStop(Duration.ofSeconds(1)));
         V1TestClient live = connect(first, "stop.live")) {
      publish(first, live);
      s3.pause();
      // Without the bound the stop would retry the checkpoints for as long as the bucket is down.
      assertTimeoutPreemptively(Duration.ofSeconds(30), first::stop);
    }
  }
}
