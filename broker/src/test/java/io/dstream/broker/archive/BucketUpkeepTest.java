package io.dstream.broker.archive;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.config.CompactionPolicy;
import io.dstream.broker.retention.MovableClock;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.store.StoredMessage;
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
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.LongStream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What leaves the bucket and when (docs/consumers-and-retention.md, bucket deletion and
 * compaction): segments below the first retained sequence, small segments merged into larger
 * ones, orphans. Real brokers on an S3 server outside their data dirs, so a lost disk is a new
 * data dir on the same bucket.
 */
@ExtendWith(VertxExtension.class)
class BucketUpkeepTest {

  private static final Logger LOG = LoggerFactory.getLogger(BucketUpkeepTest.class);
  /** Checkpoints every 20 ms, so a test makes one segment per message quickly. */
  private static final Duration INTERVAL = Duration.ofMillis(20);
  private static final CompactionPolicy NO_COMPACTION = new CompactionPolicy(1_000_000, 32, 8L << 20, 1000);

  private TestS3 s3;
  private Vertx vertx;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    this.vertx = vertx;
    s3 = TestS3.start();
  }

  @AfterEach
  void stop() {
    s3.close();
  }

  private static ArchivePolicy hotWindow(long messages) {
    return new ArchivePolicy(INTERVAL, messages, 64L << 20, Duration.ofDays(1), Duration.ofMillis(50), Duration.ofMillis(400));
  }

  private TestBroker broker(Path dataDir, long hotMessages, CompactionPolicy compaction) {
    return TestBroker.start(vertx, dataDir, b -> b.s3(s3.settings()).archivePolicy(hotWindow(hotMessages))
        .compaction(compaction).maxInFlight(8).actorCacheMessages(4));
  }

  private TestBroker broker(long hotMessages, CompactionPolicy compaction) throws Exception {
    return broker(Files.createTempDirectory("dstream-upkeep"), hotMessages, compaction);
  }

  private static V1TestClient connect(TestBroker broker, String subject) {
    return V1TestClient.connect(broker.vertx, broker.port(), subject, TestBroker.API_KEY);
  }

  private static Manifest manifest(TestBroker broker, String subject) {
    return broker.broker().archive().manifest(subject, 0).await().orElse(Manifest.empty(subject));
  }

  private static ObjectStore bucket(TestBroker broker) {
    return new MinioObjectStore(broker.broker().s3().client(), broker.broker().s3().bucket());
  }

  private static List<String> segmentKeys(TestBroker broker, String subject) {
    try {
      return bucket(broker).list(ArchiveKeys.segmentsPrefix(subject));
    } catch (Exception e) {
      throw new AssertionError(e);
    }
  }

  private static List<String> namedKeys(Manifest manifest) {
    return manifest.segments().stream().map(Manifest.SegmentRef::key).sorted().toList();
  }

  private static double counter(TestBroker broker, String name, String... tags) {
    var counter = broker.broker().metrics().registry().find(name).tags(tags).counter();
    return counter == null ? 0 : counter.count();
  }

  private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 600; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(50);
    }
    fail("not within 30 s: " + what);
  }

  /** Publishes one message per checkpoint, so each makes one small segment. */
  private static void publishOnePerCheckpoint(TestBroker broker, V1TestClient client, String subject, int count)
      throws InterruptedException {
    for (int i = 0; i < count; i++) {
      long sequence = client.request(new JsonObject().put("n", i).put("pad", "x".repeat(40))).getLong("sequence");
      eventually("checkpoint of " + sequence, () -> manifest(broker, subject).lastSequence() >= sequence);
    }
  }

  /** Subscribes from {@code from}, acks every push, and returns the pushed messages' data, in order. */
  private static List<String> replay(V1TestClient client, long from, long firstExpected, int expected) {
    client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", from));
    List<String> data = new ArrayList<>();
    for (int i = 0; i < expected; i++) {
      JsonObject push = client.nextPush();
      assertEquals(firstExpected + i, push.getLong("sequence"), "pushed in order, none skipped, none below the first");
      data.add(push.getValue("data").toString());
      client.ack(push);
    }
    return data;
  }

  @Test
  void deletingPastWholeSegmentsDropsThemAndARestoreKeepsExactlyTheRetainedMessages() throws Exception {
    String subject = "retained.orders";
    List<String> retained;
    long first;
    try (TestBroker writer = broker(100_000, NO_COMPACTION); V1TestClient client = connect(writer, subject)) {
      for (int batch = 0; batch < 4; batch++) {
        for (int i = 0; i < 10; i++) {
          client.request(new JsonObject().put("batch", batch).put("i", i));
        }
        long last = 10L * (batch + 1);
        eventually("checkpoint up to " + last, () -> manifest(writer, subject).lastSequence() == last);
      }
      List<Manifest.SegmentRef> before = manifest(writer, subject).segments();
      // Delete up to the first message of a segment of several, after at least one whole segment.
      Manifest.SegmentRef partial = before.stream().skip(1).filter(s -> s.messages() >= 2).findFirst()
          .orElseThrow(() -> new AssertionError("no segment of several messages: " + before));
      long upTo = partial.firstSequence();
      first = upTo + 1;
      List<Manifest.SegmentRef> kept = before.stream().filter(s -> s.lastSequence() >= first).toList();

      // The admin API's deletion: the path retention limits take too.
      HttpResponse<Buffer> deleted = WebClient.create(vertx).delete(writer.port(), "127.0.0.1",
          "/admin/subjects/" + subject + "/messages?upTo=" + upTo)
          .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await();
      assertEquals(200, deleted.statusCode(), deleted.bodyAsString());
      eventually("a manifest from " + first + " on", () -> manifest(writer, subject).firstSequence() == first);
      Manifest after = manifest(writer, subject);
      // Segments wholly below the first retained sequence leave; the one partly below stays whole.
      assertEquals(kept, after.segments());
      assertEquals(partial, after.segments().get(0));
      eventually("the bucket holds exactly the named segments", () -> namedKeys(after).equals(segmentKeys(writer, subject)));
      assertEquals(before.size() - kept.size(),
          (int) counter(writer, "dstream_archive_segments_deleted", "reason", "retention"));
      retained = replay(client, 1, first, (int) (40 - first + 1));
    }
    // A lost disk: a new data dir on the same bucket.
    try (TestBroker restored = broker(100_000, NO_COMPACTION); V1TestClient client = connect(restored, subject)) {
      JsonObject stream = client.command("getStreamInfo").getJsonObject("stream");
      assertEquals(first, stream.getLong("firstSequence"));
      assertEquals(40L, stream.getLong("lastSequence"));
      assertEquals(40 - first + 1, stream.getLong("messages"));
      assertEquals(retained, replay(client, 1, first, (int) (40 - first + 1)),
          "the retained messages, byte for byte, and no deleted one");
      HttpResponse<Buffer> read = WebClient.create(vertx).get(restored.port(), "127.0.0.1",
          "/stream/" + subject + "?offset=-&limit=100").putHeader("auth", TestBroker.API_KEY).send().await();
      JsonArray records = read.bodyAsJsonObject().getJsonArray("records");
      assertEquals(40 - first + 1, records.size(), read.bodyAsString());
      assertEquals(String.valueOf(first), records.getJsonObject(0).getString("offset"),
          "the deleted message of the partial segment stays hidden");
    }
  }

  /**
   * Retention limits delete through the same path: by age (a clock the test moves), by count and by
   * bytes, the expired messages leave the local store and then their whole segments the bucket.
   */
  @Test
  void retentionByAgeCountAndBytesTakesExpiredSegmentsOutOfTheBucket() throws Exception {
    MovableClock clock = new MovableClock();
    try (TestBroker broker = TestBroker.start(vertx, Files.createTempDirectory("dstream-upkeep"),
        b -> b.s3(s3.settings()).archivePolicy(hotWindow(100_000)).compaction(NO_COMPACTION).clock(clock));
         V1TestClient aged = connect(broker, "aged.orders"); V1TestClient sized = connect(broker, "sized.orders")) {
      // Three segments per subject, of five messages each; the aged subject's a minute apart.
      for (int batch = 0; batch < 3; batch++) {
        for (V1TestClient client : List.of(aged, sized)) {
          for (int i = 0; i < 5; i++) {
            client.request(new JsonObject().put("batch", batch).put("i", i).put("pad", "x".repeat(40)));
          }
        }
        long last = 5L * (batch + 1);
        eventually("checkpoints up to " + last, () -> manifest(broker, "aged.orders").lastSequence() == last
            && manifest(broker, "sized.orders").lastSequence() == last);
        clock.advanceMs(60_000);
      }
      int dropped = 0;
      // Age: the first batch is three minutes old, the second two: a limit of 150 s expires the first.
      List<Manifest.SegmentRef> before = manifest(broker, "aged.orders").segments();
      putRule(broker, "aged.>", new JsonObject().put("maxAgeMs", 150_000));
      dropped += expectBucketFrom(broker, "aged.orders", 6, before);
      // Count: five messages left, the last batch.
      before = manifest(broker, "aged.orders").segments();
      putRule(broker, "aged.>", new JsonObject().put("maxMessages", 5));
      dropped += expectBucketFrom(broker, "aged.orders", 11, before);
      // Bytes: room for the last batch only.
      long bytes = WebClient.create(vertx).get(broker.port(), "127.0.0.1", "/admin/subjects/sized.orders")
          .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await().bodyAsJsonObject().getLong("bytes");
      // A third of the bytes, plus the digit the last batch's two-digit sequences add to each of its stored objects.
      before = manifest(broker, "sized.orders").segments();
      putRule(broker, "sized.>", new JsonObject().put("maxBytes", bytes / 3 + 10));
      dropped += expectBucketFrom(broker, "sized.orders", 11, before);
      assertTrue(dropped >= 3, "at least one whole segment per deletion left the bucket");
    }
  }

  private void putRule(TestBroker broker, String pattern, JsonObject limits) {
    HttpResponse<Buffer> put = WebClient.create(vertx).put(broker.port(), "127.0.0.1",
        "/admin/retention/" + pattern.replace(">", "%3E"))
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).sendJsonObject(limits).await();
    assertEquals(200, put.statusCode(), put.bodyAsString());
  }

  /**
   * The local store, then the manifest and the bucket, keep the subject from {@code first} on: of
   * the segments {@code before} the deletion, those wholly below it leave (their number is
   * returned), the others stay.
   */
  private int expectBucketFrom(TestBroker broker, String subject, long first, List<Manifest.SegmentRef> before)
      throws InterruptedException {
    List<Manifest.SegmentRef> kept = before.stream().filter(segment -> segment.lastSequence() >= first).toList();
    eventually(subject + " retained from " + first, () -> WebClient.create(vertx).get(broker.port(), "127.0.0.1",
        "/admin/subjects/" + subject).putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await()
        .bodyAsJsonObject().getLong("firstSequence") == first);
    eventually(subject + "'s manifest from " + first, () -> manifest(broker, subject).firstSequence() == first);
    Manifest manifest = manifest(broker, subject);
    assertEquals(kept, manifest.segments());
    eventually(subject + ": the bucket holds exactly the named segments",
        () -> namedKeys(manifest).equals(segmentKeys(broker, subject)));
    return before.size() - kept.size();
  }

  @Test
  void deletingEveryMessageWithoutPublishingAgainEmptiesTheBucketOfTheSubjectsSegments() throws Exception {
    String subject = "all.gone";
    try (TestBroker broker = broker(100_000, NO_COMPACTION); V1TestClient client = connect(broker, subject)) {
      for (int batch = 0; batch < 2; batch++) {
        for (int i = 0; i < 5; i++) {
          client.request(new JsonObject().put("i", i));
        }
        long last = 5L * (batch + 1);
        eventually("checkpoint up to " + last, () -> manifest(broker, subject).lastSequence() == last);
      }
      assertTrue(segmentKeys(broker, subject).size() >= 2);
      client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 10));
      eventually("a manifest retaining nothing", () -> manifest(broker, subject).firstSequence() == 11);
      assertEquals(List.of(), manifest(broker, subject).segments());
      eventually("no segment left", () -> segmentKeys(broker, subject).isEmpty());
      assertEquals(11L, client.request(new JsonObject().put("after", "all")).getLong("sequence"));
    }
  }

  @Test
  void compactionCutsASlowSubjectsObjectsAndTheGetsOfAFullReplay() throws Exception {
    Measured measured = measure("slow.sensor", 40, new CompactionPolicy(4, 32, 8L << 20, 1000));
    assertTrue(measured.objectsAfter() <= 4, "40 one-message segments merge into at most 3: " + measured);
    assertTrue(measured.getsAfter() < measured.getsBefore(), measured.toString());
  }

  /** The figures of docs/storage.md: a subject checkpointed 200 times, before and after compaction. */
  @Tag("slow")
  @Test
  void compactionOfASubjectCheckpointed200Times() throws Exception {
    Measured measured = measure("slow.meter", 200, CompactionPolicy.DEFAULT);
    assertTrue(measured.objectsAfter() <= 8, measured.toString());
    assertTrue(measured.getsAfter() <= 7, measured.toString());
    // The same subject with compaction on while it grows, as a broker runs it.
    String subject = "slow.meter.live";
    int objects;
    try (TestBroker live = broker(100_000, CompactionPolicy.DEFAULT); V1TestClient client = connect(live, subject)) {
      publishOnePerCheckpoint(live, client, subject, 200);
      Compaction compaction = new Compaction(CompactionPolicy.DEFAULT);
      eventually("compaction settled", () -> compaction.nextRun(manifest(live, subject)).isEmpty()
          && namedKeys(manifest(live, subject)).equals(segmentKeys(live, subject)));
      objects = segmentKeys(live, subject).size() + 1;
    }
    try (TestBroker reader = broker(100_000, NO_COMPACTION); V1TestClient client = connect(reader, subject)) {
      double reads = counter(reader, "dstream_archive_segment_reads");
      replay(client, 1, 1, 200);
      double gets = counter(reader, "dstream_archive_segment_reads") - reads;
      LOG.info("compaction while growing, 200 checkpoints: {} objects, {} GETs per replay from sequence 1", objects, gets);
      assertTrue(objects < CompactionPolicy.DEFAULT.minSegments() + 1, objects + " objects");
      assertEquals(objects - 1, gets, 0.0);
    }
  }

  /**
   * @param objectsBefore objects under the subject's prefix (segments and manifest) before compaction
   * @param getsBefore    segment downloads of a replay from sequence 1 on a broker that lost its disk
   */
  record Measured(int checkpoints, int objectsBefore, double getsBefore, int objectsAfter, double getsAfter) {
  }

  /**
   * One message per checkpoint on a broker without compaction; a replay from sequence 1 on a
   * broker that lost its disk (every message read from the bucket); then a broker with compaction
   * on another empty data dir, which merges the restored subject's segments, and the same replay.
   */
  private Measured measure(String subject, int checkpoints, CompactionPolicy compaction) throws Exception {
    int objectsBefore;
    try (TestBroker writer = broker(100_000, NO_COMPACTION); V1TestClient client = connect(writer, subject)) {
      publishOnePerCheckpoint(writer, client, subject, checkpoints);
      objectsBefore = segmentKeys(writer, subject).size() + 1;
      assertEquals(checkpoints + 1, objectsBefore);
    }
    List<String> before;
    double getsBefore;
    try (TestBroker reader = broker(100_000, NO_COMPACTION); V1TestClient client = connect(reader, subject)) {
      double reads = counter(reader, "dstream_archive_segment_reads");
      before = replay(client, 1, 1, checkpoints);
      getsBefore = counter(reader, "dstream_archive_segment_reads") - reads;
    }
    try (TestBroker compacting = broker(100_000, compaction); V1TestClient client = connect(compacting, subject)) {
      eventually("compaction down to fewer than " + compaction.minSegments() + " segments",
          () -> manifest(compacting, subject).segments().size() < compaction.minSegments());
      Manifest merged = manifest(compacting, subject);
      eventually("the replaced segments deleted", () -> namedKeys(merged).equals(segmentKeys(compacting, subject)));
      int objectsAfter = segmentKeys(compacting, subject).size() + 1;
      double reads = counter(compacting, "dstream_archive_segment_reads");
      assertEquals(before, replay(client, 1, 1, checkpoints), "the same messages, byte for byte");
      double getsAfter = counter(compacting, "dstream_archive_segment_reads") - reads;
      Measured measured = new Measured(checkpoints, objectsBefore, getsBefore, objectsAfter, getsAfter);
      LOG.info("compaction measured: {}", measured);
      return measured;
    }
  }

  @Test
  void aReplayAndCheckpointsGoOnWhileCompactionReplacesTheSegmentsBeingRead() throws Exception {
    String subject = "busy.compaction";
    Path dataDir = Files.createTempDirectory("dstream-upkeep");
    int old = 60;
    try (TestBroker writer = broker(dataDir, 1, NO_COMPACTION); V1TestClient client = connect(writer, subject)) {
      publishOnePerCheckpoint(writer, client, subject, old);
      eventually("eviction down to the hot window",
          () -> client.command("getStreamInfo").getJsonObject("stream").getLong("bytes") < 300);
    }
    // Merges of at most 4 segments: many of them, spread over the replay below.
    CompactionPolicy smallMerges = new CompactionPolicy(4, 4, 8L << 20, 1000);
    try (TestBroker broker = broker(dataDir, 1, smallMerges);
         V1TestClient reader = connect(broker, subject); V1TestClient writer = connect(broker, subject)) {
      reader.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      int added = 0;
      for (long expected = 1; expected <= old + added; expected++) {
        JsonObject push = reader.nextPush();
        assertEquals(expected, push.getLong("sequence"), "in order, none lost while segments were replaced");
        reader.ack(push);
        if (added < 20) {
          long sequence = writer.request(new JsonObject().put("new", added)).getLong("sequence");
          added++;
          eventually("checkpoint of " + sequence + " during compaction",
              () -> manifest(broker, subject).lastSequence() >= sequence);
        }
      }
      assertTrue(counter(broker, "dstream_archive_compactions") > 0, "merges ran meanwhile");
      eventually("compaction settled", () -> new Compaction(smallMerges).nextRun(manifest(broker, subject)).isEmpty());
      Manifest settled = manifest(broker, subject);
      assertEquals(old + added, settled.lastSequence());
      assertEquals(LongStream.rangeClosed(1, old + added).boxed().toList(), sequencesNamed(settled));
    }
  }

  private static List<Long> sequencesNamed(Manifest manifest) {
    List<Long> sequences = new ArrayList<>();
    for (Manifest.SegmentRef segment : manifest.segments()) {
      LongStream.rangeClosed(segment.firstSequence(), segment.lastSequence()).forEach(sequences::add);
    }
    return sequences;
  }

  @Test
  void orphansLeftByACrashAreSweptPageByPageAndNamedSegmentsStay() throws Exception {
    String subject = "crashed.midway";
    String neverNamed = "crashed.before.manifest";
    Path dataDir = Files.createTempDirectory("dstream-upkeep");
    Set<String> orphans = new HashSet<>();
    try (TestBroker first = broker(dataDir, 100_000, NO_COMPACTION); V1TestClient client = connect(first, subject)) {
      publishOnePerCheckpoint(first, client, subject, 3);
      // What a crash between uploading segments and writing the manifest leaves: segments nothing names.
      ObjectStore bucket = bucket(first);
      for (int i = 0; i < 5; i++) {
        orphans.add(putSegment(bucket, subject, 4 + i));
      }
      orphans.add(putSegment(bucket, neverNamed, 1));
    }
    Manifest named;
    // Two keys per listing: the sweep takes several steps.
    try (TestBroker second = broker(dataDir, 100_000, new CompactionPolicy(1_000_000, 32, 8L << 20, 2))) {
      named = manifest(second, subject);
      assertEquals(3, named.segments().size());
      try (V1TestClient client = connect(second, subject); V1TestClient other = connect(second, neverNamed)) {
        eventually("orphans swept", () -> namedKeys(named).equals(segmentKeys(second, subject))
            && segmentKeys(second, neverNamed).isEmpty());
        assertEquals(orphans.size(), (int) counter(second, "dstream_archive_segments_deleted", "reason", "orphan"));
        assertEquals(4L, client.request(new JsonObject().put("after", "sweep")).getLong("sequence"));
        assertEquals(1L, other.request(new JsonObject().put("first", true)).getLong("sequence"));
      }
      eventually("checkpoints go on after the sweep", () -> manifest(second, subject).lastSequence() == 4);
    }
  }

  private static String putSegment(ObjectStore bucket, String subject, long sequence) throws Exception {
    Segment segment = new Segment(subject, List.of(new StoredMessage(sequence, System.currentTimeMillis(),
        "{\"data\":\"orphan\"}".getBytes(StandardCharsets.UTF_8))));
    String key = ArchiveKeys.newSegment(subject, sequence, sequence, 0);
    bucket.put(key, segment.encode(), "application/zstd");
    return key;
  }
}
