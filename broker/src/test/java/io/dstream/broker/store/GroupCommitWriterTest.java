package io.dstream.broker.store;

import io.dstream.broker.config.GroupCommitPolicy;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writer's promise: no batch completes before the commit (with fsync in ALWAYS) that holds it
 * returned; batches of many subjects share commits; a failed commit fails its batches and nothing after.
 */
class GroupCommitWriterTest {

  /**
   * The real H2 store, watched: it counts commits that returned, remembers in which commit each
   * append was applied, and can be told to fail commits like a full disk.
   */
  static final class WatchedStore implements MessageStore {
    final MvMessageStore real;
    final AtomicLong commitsReturned = new AtomicLong();
    final Map<String, Long> appliedBeforeCommit = new ConcurrentHashMap<>();
    volatile boolean failCommits;

    WatchedStore(MvMessageStore real) {
      this.real = real;
    }

    @Override public SubjectRecord open(String subject) { return real.open(subject); }
    @Override public SubjectRecord record(String subject) { return real.record(subject); }
    @Override public SubjectRecord find(String subject) { return real.find(subject); }
    @Override public List<Map.Entry<String, SubjectRecord>> subjects(String after, int limit) { return real.subjects(after, limit); }
    @Override public StoreSize size() { return real.size(); }
    @Override public void putState(String subject, byte[] stateJson) { real.putState(subject, stateJson); }
    @Override public void putAttributes(String subject, byte[] attributes) { real.putAttributes(subject, attributes); }
    @Override public SubjectRecord deleteUpTo(String subject, long upTo) { return real.deleteUpTo(subject, upTo); }
    @Override public int evict(String subject, StoreWrite.Evict evict, int max) { return real.evict(subject, evict, max); }
    @Override public void restore(String subject, StoreWrite.Restore restore) { real.restore(subject, restore); }
    @Override public List<StoredMessage> read(long id, long from, int max, long maxBytes) { return real.read(id, from, max, maxBytes); }
    @Override public void setProducerVersion(String subject, long version) { real.setProducerVersion(subject, version); }
    @Override public void destroy(String subject) { real.destroy(subject); }
    @Override public long firstSequenceAtOrAfter(long id, long timestampMs) { return real.firstSequenceAtOrAfter(id, timestampMs); }
    @Override public void syncIfDue() { real.syncIfDue(); }
    @Override public SyncMode syncMode() { return real.syncMode(); }
    @Override public void rollback() { real.rollback(); }
    @Override public void compact() { real.compact(); }
    @Override public void close() { real.close(); }

    @Override
    public void append(String subject, long sequence, long timestampMs, byte[] payload) {
      real.append(subject, sequence, timestampMs, payload);
      appliedBeforeCommit.put(subject + "#" + sequence, commitsReturned.get());
    }

    @Override
    public void commit() {
      if (failCommits) {
        throw new IllegalStateException("No space left on device");
      }
      real.commit();
      commitsReturned.incrementAndGet();
    }
  }

  private Vertx vertx;
  private WatchedStore store;
  private GroupCommitWriter writer;
  private SimpleMeterRegistry registry;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    store = new WatchedStore(MvMessageStore.open(Files.createTempDirectory("dstream-writer"), 8, SyncMode.ALWAYS,
        Duration.ofMillis(200)));
    registry = new SimpleMeterRegistry();
    writer = new GroupCommitWriter(store, GroupCommitPolicy.DEFAULT, 1024, registry);
  }

  @AfterEach
  void stop() {
    writer.close();
    store.close();
    vertx.close().await();
  }

  @Test
  void noBatchCompletesBeforeTheForcedCommitThatHoldsIt() throws Exception {
    int subjects = 20;
    int batchesPerSubject = 50;
    CountDownLatch done = new CountDownLatch(subjects * batchesPerSubject);
    AtomicInteger violations = new AtomicInteger();
    for (int s = 0; s < subjects; s++) {
      String subject = "s" + s;
      store.open(subject);
      Context context = vertx.getOrCreateContext();
      context.runOnContext(v -> submitChain(context, subject, 1, batchesPerSubject, violations, done));
    }
    assertTrue(done.await(60, TimeUnit.SECONDS));
    assertEquals(0, violations.get(), "a batch completed before its commit returned");
    long commits = store.commitsReturned.get();
    assertTrue(commits < subjects * batchesPerSubject, "batches of different subjects share commits: " + commits);
    double flushes = registry.find("dstream_commits").counters().stream().mapToDouble(c -> c.count()).sum();
    assertEquals(commits, (long) flushes, "every commit counts its reason");
  }

  /** One batch in flight per subject, like a stream actor. */
  private void submitChain(Context context, String subject, int sequence, int last, AtomicInteger violations,
                           CountDownLatch done) {
    WriteBatch batch = new WriteBatch(subject, List.of(new StoreWrite.Append(sequence, 0, new byte[128])), context,
        (record, failure) -> {
          Long appliedAt = store.appliedBeforeCommit.get(subject + "#" + sequence);
          if (failure != null || appliedAt == null || store.commitsReturned.get() <= appliedAt
              || record.lastSequence() != sequence) {
            violations.incrementAndGet();
          }
          done.countDown();
          if (sequence < last) {
            submitChain(context, subject, sequence + 1, last, violations, done);
          }
        });
    assertTrue(writer.submit(batch));
  }

  @Test
  void aFailedCommitFailsItsBatchesAndTheWriterRecovers() throws Exception {
    store.open("disk");
    Context context = vertx.getOrCreateContext();
    store.failCommits = true;
    AtomicReference<Throwable> failure = new AtomicReference<>();
    CountDownLatch failed = new CountDownLatch(1);
    writer.submit(new WriteBatch("disk", List.of(new StoreWrite.Append(1, 0, new byte[8])), context, (r, e) -> {
      failure.set(e);
      failed.countDown();
    }));
    assertTrue(failed.await(10, TimeUnit.SECONDS));
    assertNotNull(failure.get());
    assertTrue(failure.get().getMessage().contains("No space left"), failure.get().getMessage());
    assertEquals(0, store.record("disk").lastSequence(), "the failed write was rolled back");

    store.failCommits = false;
    AtomicReference<SubjectRecord> written = new AtomicReference<>();
    CountDownLatch ok = new CountDownLatch(1);
    writer.submit(new WriteBatch("disk", List.of(new StoreWrite.Append(1, 0, new byte[8])), context, (r, e) -> {
      assertNull(e);
      written.set(r);
      ok.countDown();
    }));
    assertTrue(ok.await(10, TimeUnit.SECONDS));
    assertEquals(1, written.get().lastSequence());
  }
}
