package io.dstream.broker.archive;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.config.CompactionPolicy;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.store.StoredMessage;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.minio.MinioClient;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Cluster mode's checkpoint fencing (docs/cluster.md), on the real archive and a real S3 server:
 * leaders of successive Raft terms write a subject's manifests, and a deposed leader's late writes,
 * reads and sweeps must never win over a newer term's. The Raft confirmation of a term
 * ({@link TermCheck}, a linearizable read in a cluster) is the set {@link #currentTerms}: a term in
 * it is a live leader's, any other one a deposed leader's.
 */
@ExtendWith(VertxExtension.class)
class ArchiveFencingTest {

  private static final String SUBJECT = "fenced.subject";

  private TestS3 s3;
  private TestBroker broker;
  private Archive archive;
  private MinioObjectStore bucket;
  private final Set<Long> currentTerms = ConcurrentHashMap.newKeySet();

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    s3 = TestS3.start();
    broker = TestBroker.start(vertx, Files.createTempDirectory("dstream-fencing"), b -> b.s3(s3.settings()));
    bucket = new MinioObjectStore(MinioClient.builder().endpoint(s3.endpoint())
        .credentials(TestS3.ACCESS_KEY, TestS3.SECRET_KEY).build(), s3.settings().bucket());
    archive = new Archive(broker.broker().s3(), bucket, ArchivePolicy.DEFAULT, CompactionPolicy.DEFAULT,
        new SimpleMeterRegistry(), (subject, term) -> currentTerms.contains(term));
  }

  @AfterEach
  void stop() throws Exception {
    broker.close();
    s3.close();
  }

  private Manifest.SegmentRef upload(long first, long last, long term) {
    List<StoredMessage> messages = new ArrayList<>();
    for (long sequence = first; sequence <= last; sequence++) {
      messages.add(new StoredMessage(sequence, sequence, ("{\"n\":" + sequence + "}").getBytes(StandardCharsets.UTF_8)));
    }
    return archive.upload(new Segment(SUBJECT, messages), term).await();
  }

  private static Manifest covering(Manifest previous, long last, Manifest.SegmentRef added) {
    return previous.next(1, last, "{}", 0, 0, last, new byte[0], System.currentTimeMillis(), List.of(added));
  }

  private static Throwable failure(Runnable action) {
    RuntimeException thrown = assertThrows(RuntimeException.class, action::run);
    return thrown instanceof ArchiveFencedException ? thrown : thrown.getCause() != null ? thrown.getCause() : thrown;
  }

  @Test
  void aDeposedLeadersLateManifestNeverReplacesANewerTermsOne() throws Exception {
    Manifest term5 = covering(Manifest.empty(SUBJECT), 10, upload(1, 10, 5));
    archive.commit(term5, 5, true).await();
    Manifest term6 = covering(term5, 20, upload(11, 20, 6));
    archive.commit(term6, 6, true).await();
    assertEquals(List.of(ArchiveKeys.manifest(SUBJECT, 6)), bucket.list(ArchiveKeys.manifestsPrefix(SUBJECT)),
        "the newer term's commit removed the older term's manifest");

    // The leader of term 5, deposed without knowing it yet, finishes a checkpoint it had started.
    Manifest late = covering(term5, 15, upload(11, 15, 5));
    assertInstanceOf(ArchiveFencedException.class, failure(() -> archive.commit(late, 5, true).await()));
    // A checkpoint that deletes nothing skips the listing: its manifest lands, and no reader takes it.
    archive.commit(late, 5, false).await();

    assertEquals(20, archive.manifest(SUBJECT, 6).await().orElseThrow().lastSequence());
    assertEquals(20, archive.manifest(SUBJECT, 7).await().orElseThrow().lastSequence(),
        "the next leader builds on term 6's manifest, not on the late one");
    assertInstanceOf(ArchiveFencedException.class, failure(() -> archive.manifest(SUBJECT, 5).await()));
    assertTrue(bucket.get(ArchiveKeys.manifest(SUBJECT, 0)).isEmpty(), "a cluster never writes the single-node key");
  }

  @Test
  void aSweepKeepsANewerTermsUnnamedSegmentsAndADeposedLeadersSweepDeletesNothing() throws Exception {
    Manifest.SegmentRef named = upload(1, 10, 6);
    Manifest term6 = covering(Manifest.empty(SUBJECT), 10, named);
    archive.commit(term6, 6, true).await();
    Manifest.SegmentRef orphanOfTerm5 = upload(11, 12, 5);
    Manifest.SegmentRef uploadingInTerm7 = upload(11, 20, 7);

    archive.sweep(term6, null, 100, 6).await();
    List<String> left = bucket.list(ArchiveKeys.segmentsPrefix(SUBJECT));
    assertEquals(List.of(named.key(), uploadingInTerm7.key()), left,
        "term 6 swept its predecessor's orphan and kept what term 7's leader is about to name");
    assertTrue(!left.contains(orphanOfTerm5.key()));

    archive.commit(covering(term6, 20, uploadingInTerm7), 7, true).await();
    Manifest.SegmentRef orphanOfTerm6 = upload(21, 22, 6);
    assertInstanceOf(ArchiveFencedException.class, failure(() -> archive.sweep(term6, null, 100, 6).await()));
    assertTrue(bucket.list(ArchiveKeys.segmentsPrefix(SUBJECT)).contains(orphanOfTerm6.key()),
        "a fenced sweep deletes nothing");
    assertEquals(20, archive.manifest(SUBJECT, 7).await().orElseThrow().lastSequence());
  }

  @Test
  void aClusterRebuiltOnTheSameBucketTakesOverAnEarlierClustersHigherTerms() throws Exception {
    // The earlier cluster checkpointed under term 9; the rebuilt one's Raft terms start again at 1.
    Manifest earlier = covering(Manifest.empty(SUBJECT), 10, upload(1, 10, 9));
    archive.commit(earlier, 9, true).await();
    currentTerms.add(1L);

    Manifest restored = archive.manifest(SUBJECT, 1).await().orElseThrow();
    assertEquals(10, restored.lastSequence(), "a confirmed term restores from the earlier cluster's manifest");
    archive.commit(covering(restored, 12, upload(11, 12, 1)), 1, true).await();
    assertEquals(List.of(ArchiveKeys.manifest(SUBJECT, 1)), bucket.list(ArchiveKeys.manifestsPrefix(SUBJECT)),
        "the earlier cluster's manifest is replaced");
    assertEquals(12, archive.manifest(SUBJECT, 1).await().orElseThrow().lastSequence());

    // Without the confirmation (a deposed leader of the rebuilt cluster) a higher term still fences.
    archive.commit(covering(restored, 14, upload(13, 14, 3)), 3, true).await();
    currentTerms.clear();
    assertInstanceOf(ArchiveFencedException.class, failure(() -> archive.manifest(SUBJECT, 1).await()));
    assertInstanceOf(ArchiveFencedException.class,
        failure(() -> archive.commit(covering(restored, 13, upload(13, 13, 1)), 1, true).await()));
    assertEquals(14, archive.manifest(SUBJECT, 3).await().orElseThrow().lastSequence());
  }

  @Test
  void aSingleNodeKeepsItsOneManifestKeyAndAClusterTakesItOver() throws Exception {
    Manifest single = covering(Manifest.empty(SUBJECT), 5, upload(1, 5, 0));
    archive.commit(single, 0, true).await();
    assertTrue(bucket.get(ArchiveKeys.manifest(SUBJECT, 0)).isPresent());
    assertTrue(bucket.list(ArchiveKeys.manifestsPrefix(SUBJECT)).isEmpty());

    // A cluster formed on the same bucket reads the single node's manifest as term 0, then replaces it.
    Manifest first = archive.manifest(SUBJECT, 1).await().orElseThrow();
    assertEquals(5, first.lastSequence());
    archive.commit(covering(first, 8, upload(6, 8, 1)), 1, true).await();
    assertTrue(bucket.get(ArchiveKeys.manifest(SUBJECT, 0)).isEmpty());
    assertEquals(8, archive.manifest(SUBJECT, 1).await().orElseThrow().lastSequence());

    archive.destroy(SUBJECT).await();
    assertTrue(bucket.list(ArchiveKeys.subjectPrefix(SUBJECT)).isEmpty(), "destroy removes every term's manifest");
  }
}
