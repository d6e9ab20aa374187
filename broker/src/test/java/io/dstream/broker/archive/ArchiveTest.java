package io.dstream.broker.archive;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Checkpoints, restore, bottomless replay and S3 outages, against an S3 server outside the
 * broker's data dir reached with MinIO-style credentials (the path a real MinIO takes).
 */
@ExtendWith(VertxExtension.class)
class ArchiveTest {

  private static final ArchivePolicy FAST = new ArchivePolicy(Duration.ofMillis(100), 100_000, 64L << 20,
      Duration.ofDays(1), Duration.ofMillis(50), Duration.ofMillis(400));

  private TestS3 s3;
  private Vertx vertx;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    s3 = TestS3.start();
  }

  @AfterEach
  void stop() throws Exception {
    s3.close();
  }

  /** A broker on {@link #s3} whose in-memory cache is tiny, so replays really read the store and the segments. */
  /** As {@link #FAST}, with a hot window of {@code messages} local messages. */
  private static ArchivePolicy hotWindow(int messages) {
    return new ArchivePolicy(Duration.ofMillis(100), messages, 64L << 20, Duration.ofDays(1), Duration.ofMillis(50),
        Duration.ofMillis(400));
  }

  private TestBroker broker(ArchivePolicy policy) throws Exception {
    return TestBroker.start(vertx, Files.createTempDirectory("dstream-archive"),
        b -> b.s3(s3.settings()).archivePolicy(policy).maxInFlight(8).actorCacheMessages(4));
  }

  private static V1TestClient connect(TestBroker broker, String subject) {
    return V1TestClient.connect(broker.vertx, broker.port(), subject, TestBroker.API_KEY);
  }

  private static Manifest manifest(TestBroker broker, String subject) {
    return broker.broker().archive().manifest(subject, 0).await().orElse(Manifest.empty(subject));
  }

  private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    fail("not within 30 s: " + what);
  }

  private static void publish(V1TestClient client, int count, String tag) {
    for (int i = 0; i < count; i++) {
      client.request(new JsonObject().put("tag", tag).put("n", i));
    }
  }

  /** Subscribes from {@code from}, acks every push, and returns the sequences received, in order. */
  private static List<Long> replay(V1TestClient client, long from, int expected) {
    client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", from));
    java.util.ArrayList<Long> sequences = new java.util.ArrayList<>();
    for (int i = 0; i < expected; i++) {
      JsonObject push = client.nextPush();
      sequences.add(push.getLong("sequence"));
      client.ack(push);
    }
    return sequences;
  }

  private static List<Long> range(long first, long last) {
    return java.util.stream.LongStream.rangeClosed(first, last).boxed().toList();
  }

  @Test
  void checkpointThenLoseTheDataDirThenEverySubjectIsRestored() throws Exception {
    Map<String, Integer> published = Map.of("orders.eu", 25, "orders.us", 3, "audit", 40);
    try (TestBroker first = broker(FAST)) {
      for (Map.Entry<String, Integer> subject : published.entrySet()) {
        try (V1TestClient client = connect(first, subject.getKey())) {
          publish(client, subject.getValue(), subject.getKey());
          client.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("of", subject.getKey())));
        }
      }
      try (V1TestClient client = connect(first, "audit")) {
        client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 10));
      }
      for (Map.Entry<String, Integer> subject : published.entrySet()) {
        eventually("checkpoint of " + subject.getKey(), () -> {
          Manifest manifest = manifest(first, subject.getKey());
          return manifest.lastSequence() == subject.getValue() && manifest.state().contains(subject.getKey())
              && (!subject.getKey().equals("audit") || manifest.firstSequence() == 11);
        });
      }
    }
    try (TestBroker restored = broker(FAST)) {
      for (Map.Entry<String, Integer> subject : published.entrySet()) {
        long firstSequence = subject.getKey().equals("audit") ? 11 : 1;
        long last = subject.getValue();
        try (V1TestClient client = connect(restored, subject.getKey())) {
          JsonObject stream = client.command("getStreamInfo").getJsonObject("stream");
          assertEquals(firstSequence, stream.getLong("firstSequence"), subject.getKey());
          assertEquals(last, stream.getLong("lastSequence"), subject.getKey());
          assertEquals(last - firstSequence + 1, stream.getLong("messages"), subject.getKey());
          assertEquals(new JsonObject().put("of", subject.getKey()), client.command("getState").getJsonObject("state"));
          assertEquals(range(firstSequence, last), replay(client, 1, (int) (last - firstSequence + 1)));
          assertEquals(last + 1, client.request(new JsonObject().put("after", "restore")).getLong("sequence"));
        }
      }
    }
  }

  @Test
  void replayFromSequenceOneCrossesFromSegmentsIntoTheLocalStoreWithoutAGap() throws Exception {
    try (TestBroker broker = broker(hotWindow(10)); V1TestClient client = connect(broker, "deep.history")) {
      publish(client, 100, "old");
      eventually("checkpoint", () -> manifest(broker, "deep.history").lastSequence() == 100);
      // Each message is under 150 bytes of JSON: 100 of them are far more than 10 x 150.
      eventually("eviction down to the hot window of 10 messages", () ->
          client.command("getStreamInfo").getJsonObject("stream").getLong("bytes") <= 10 * 150);
      publish(client, 5, "new");
      double readsBefore = segmentReads(broker);
      try (V1TestClient reader = connect(broker, "deep.history")) {
        assertEquals(range(1, 105), replay(reader, 1, 105));
      }
      assertTrue(segmentReads(broker) > readsBefore, "old messages came from segments");
      JsonObject stream = client.command("getStreamInfo").getJsonObject("stream");
      assertEquals(1L, stream.getLong("firstSequence"), "the log still starts at 1");
      assertEquals(105L, stream.getLong("messages"));
    }
  }

  @Test
  void aRestoredStateComesBackByteForByte() throws Exception {
    String state = "{\"huge\":1e400,\"precise\":0.1000000000000000055511151231257827,\"lone\":\"\\ud800\"}";
    String putState = "{\"data\":{\"cmd\":\"putState\",\"state\":" + state + "},\"cMsgId\":1,\"clientId\":1}";
    String getState = "{\"data\":{\"cmd\":\"getState\"},\"cMsgId\":2,\"clientId\":1}";
    try (TestBroker first = broker(FAST); V1TestClient client = connect(first, "exact.restore")) {
      client.sendRaw(putState);
      V1TestClient.take(client.replies, 10);
      eventually("checkpoint of the state", () -> state.equals(manifest(first, "exact.restore").state()));
    }
    try (TestBroker restored = broker(FAST); V1TestClient client = connect(restored, "exact.restore")) {
      client.sendRaw(getState);
      assertTrue(V1TestClient.take(client.replies, 10).contains("\"state\":" + state + "}"), "restored as stored");
    }
  }

  /** The first read after a restart used to fail with 500 while the manifest was still on its way. */
  @Test
  void aReadRightAfterARestartWaitsForTheManifestInsteadOfFailing() throws Exception {
    ArchivePolicy smallWindow = new ArchivePolicy(Duration.ofMillis(100), 10, 64L << 20, Duration.ofDays(1),
        Duration.ofMillis(50), Duration.ofMillis(400));
    try (TestBroker broker = broker(smallWindow)) {
      try (V1TestClient client = connect(broker, "after.restart")) {
        publish(client, 300, "old");
        eventually("checkpoint", () -> manifest(broker, "after.restart").lastSequence() == 300);
        eventually("eviction down to the hot window", () ->
            client.command("getStreamInfo").getJsonObject("stream").getLong("bytes") <= 10 * 150);
      }
      broker.stop();
      broker.restart();
      HttpResponse<Buffer> read = WebClient.create(vertx).get(broker.port(), "127.0.0.1",
          "/stream/after.restart?offset=-&limit=100").putHeader("auth", TestBroker.API_KEY).send().await();
      assertEquals(200, read.statusCode(), read.bodyAsString());
      JsonArray records = read.bodyAsJsonObject().getJsonArray("records");
      assertEquals("1", records.getJsonObject(0).getString("offset"), "read from the bucket's segments");
      assertEquals(100, records.size());
    }
  }

  private static double segmentReads(TestBroker broker) {
    return broker.broker().metrics().registry().counter("dstream_archive_segment_reads").count();
  }

  @Test
  void publishingContinuesWhileS3IsDownAndCheckpointsCatchUpWhenItReturns() throws Exception {
    try (TestBroker broker = broker(FAST); V1TestClient client = connect(broker, "outage")) {
      publish(client, 10, "before");
      eventually("first checkpoint", () -> manifest(broker, "outage").lastSequence() == 10);
      s3.pause();
      publish(client, 20, "during");
      eventually("a failed checkpoint", () ->
          broker.broker().metrics().registry().counter("dstream_archive_checkpoint_failures").count() > 0);
      assertEquals(31L, client.request(new JsonObject().put("still", "writing")).getLong("sequence"));
      s3.resume();
      eventually("checkpoints caught up", () -> manifest(broker, "outage").lastSequence() == 31);
      assertEquals(range(1, 31), replay(client, 1, 31));
    }
  }

  @Test
  void aSubjectThatHibernatesBeforeItsCheckpointIsStillCheckpointed() throws Exception {
    ArchivePolicy slow = new ArchivePolicy(Duration.ofSeconds(5), 100_000, 64L << 20, Duration.ofDays(1),
        Duration.ofMillis(50), Duration.ofMillis(400));
    try (TestBroker broker = TestBroker.start(vertx, Files.createTempDirectory("dstream-archive"),
        b -> b.s3(s3.settings()).archivePolicy(slow).idleTimeout(Duration.ofMillis(100)))) {
      try (V1TestClient client = connect(broker, "sleepy")) {
        publish(client, 7, "zz");
      }
      eventually("the actor hibernated", () -> broker.broker().metrics().actorsHibernated.count() >= 1);
      assertEquals(0, manifest(broker, "sleepy").lastSequence(), "hibernated before its first checkpoint");
      eventually("its checkpoint", () -> manifest(broker, "sleepy").lastSequence() == 7);
      try (V1TestClient client = connect(broker, "sleepy")) {
        assertEquals(8L, client.request(new JsonObject().put("awake", true)).getLong("sequence"));
      }
      eventually("the next checkpoint", () -> manifest(broker, "sleepy").lastSequence() == 8);
    }
  }

  @Test
  void deleteMessagesRemovesWholeSegmentsBelowTheSequenceAndRewritesTheManifest() throws Exception {
    try (TestBroker broker = broker(FAST); V1TestClient client = connect(broker, "trimmed")) {
      for (int batch = 0; batch < 3; batch++) {
        publish(client, 10, "batch" + batch);
        int last = 10 * (batch + 1);
        eventually("checkpoint up to " + last, () -> manifest(broker, "trimmed").lastSequence() == last);
      }
      List<Manifest.SegmentRef> before = manifest(broker, "trimmed").segments();
      assertTrue(before.size() >= 3, "one segment per checkpoint: " + before);
      client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 20));
      eventually("manifest after the deletion", () -> manifest(broker, "trimmed").firstSequence() == 21);
      Manifest after = manifest(broker, "trimmed");
      for (Manifest.SegmentRef segment : after.segments()) {
        assertTrue(segment.lastSequence() >= 21, "a segment wholly below 21 is still named: " + segment);
      }
      for (Manifest.SegmentRef segment : before) {
        boolean kept = after.segments().contains(segment);
        assertEquals(segment.lastSequence() >= 21, kept, segment.toString());
        eventually(segment.key() + (kept ? " kept" : " deleted"), () -> kept == objectExists(broker, segment.key()));
      }
    }
  }

  @Test
  void destroyRemovesEveryCheckpointOfTheSubject() throws Exception {
    try (TestBroker broker = broker(FAST); V1TestClient client = connect(broker, "gone.soon")) {
      publish(client, 5, "x");
      eventually("checkpoint", () -> manifest(broker, "gone.soon").lastSequence() == 5);
      broker.broker().archive().destroy("gone.soon").await();
      assertFalse(broker.broker().archive().manifest("gone.soon", 0).await().isPresent());
      assertEquals(List.of(), new MinioObjectStore(broker.broker().s3().client(), broker.broker().s3().bucket())
          .list(ArchiveKeys.subjectPrefix("gone.soon")));
    }
  }

  @Test
  void recordsReadsAndTimeSeeksReachEvictedMessagesAndDeleteRemovesTheCheckpoints() throws Exception {
    try (TestBroker broker = broker(hotWindow(5))) {
      WebClient http = WebClient.create(vertx);
      List<Long> batchTimes = new java.util.ArrayList<>();
      for (int batch = 0; batch < 3; batch++) {
        JsonArray records = new JsonArray();
        for (int i = 0; i < 10; i++) {
          records.add(new JsonObject().put("batch", batch).put("i", i));
        }
        HttpResponse<Buffer> posted = http.post(broker.port(), "127.0.0.1", "/stream/rec.archive")
            .putHeader("auth", TestBroker.API_KEY).sendJsonObject(new JsonObject().put("records", records)).await();
        assertEquals(200, posted.statusCode(), posted.bodyAsString());
        batchTimes.add(readRecords(http, broker, "offset=" + (10 * batch)).getJsonObject(0).getLong("ts"));
        Thread.sleep(20);
      }
      eventually("checkpoint", () -> manifest(broker, "rec.archive").lastSequence() == 30);
      eventually("eviction", () -> segmentReadsAfterReading(http, broker) > 0);

      JsonArray fromStart = readRecords(http, broker, "offset=-&limit=30");
      assertEquals("1", fromStart.getJsonObject(0).getString("offset"));
      assertEquals(30, fromStart.size());
      for (int i = 0; i < 30; i++) {
        assertEquals(String.valueOf(i + 1), fromStart.getJsonObject(i).getString("offset"));
      }
      // Record 11 (the second batch's first) left the local store: the time seek finds it in a segment.
      assertEquals("11", readRecords(http, broker, "since=" + batchTimes.get(1)).getJsonObject(0).getString("offset"));

      HttpResponse<Buffer> deleted = http.delete(broker.port(), "127.0.0.1", "/stream/rec.archive")
          .putHeader("auth", TestBroker.API_KEY).send().await();
      assertEquals(204, deleted.statusCode());
      eventually("checkpoints deleted", () -> !broker.broker().archive().manifest("rec.archive", 0).await().isPresent());
      assertEquals(List.of(), new MinioObjectStore(broker.broker().s3().client(), broker.broker().s3().bucket())
          .list(ArchiveKeys.subjectPrefix("rec.archive")));
      http.close();
    }
  }

  @Test
  void durableStreamsReadsReachEvictedMessagesThroughTheSubjectsActor() throws Exception {
    try (TestBroker broker = broker(hotWindow(5))) {
      WebClient http = WebClient.create(vertx);
      String uri = "/v1/stream/archived-stream";
      assertEquals(201, http.put(broker.port(), "127.0.0.1", uri).putHeader("Authorization", "Bearer " + TestBroker.API_KEY)
          .putHeader("Content-Type", "text/plain").send().await().statusCode());
      StringBuilder expected = new StringBuilder();
      for (int i = 0; i < 30; i++) {
        String line = "line " + i + "\n";
        expected.append(line);
        assertEquals(204, http.post(broker.port(), "127.0.0.1", uri).putHeader("Authorization", "Bearer " + TestBroker.API_KEY)
            .putHeader("Content-Type", "text/plain").sendBuffer(Buffer.buffer(line)).await().statusCode());
      }
      String subject = "ds.archived-stream"; // the view's subject of that path (docs/http.md)
      eventually("checkpoint", () -> manifest(broker, subject).lastSequence() == 30);
      double readsBefore = segmentReads(broker);
      eventually("eviction, seen as reads from the segments", () -> {
        HttpResponse<Buffer> all = http.get(broker.port(), "127.0.0.1", uri + "?offset=-1")
            .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await();
        assertEquals(expected.toString(), all.bodyAsString());
        return segmentReads(broker) > readsBefore;
      });
      http.close();
    }
  }

  /** Reads the subject from its start and returns how many segment downloads that needed so far. */
  private static double segmentReadsAfterReading(WebClient http, TestBroker broker) {
    readRecords(http, broker, "offset=-&limit=5");
    return segmentReads(broker);
  }

  private static JsonArray readRecords(WebClient http, TestBroker broker, String query) {
    HttpResponse<Buffer> read = http.get(broker.port(), "127.0.0.1", "/stream/rec.archive?" + query)
        .putHeader("auth", TestBroker.API_KEY).send().await();
    assertEquals(200, read.statusCode(), read.bodyAsString());
    return read.bodyAsJsonObject().getJsonArray("records");
  }

  private static boolean objectExists(TestBroker broker, String key) {
    try {
      return new MinioObjectStore(broker.broker().s3().client(), broker.broker().s3().bucket()).get(key).isPresent();
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }
}
