package io.dstream.broker.store;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The writer's promise, watched through the store interface ({@link WatchedStore} around the real H2
 * store): no batch is acknowledged before the commit holding it returned and, with
 * {@link SyncMode#ALWAYS}, before the force after that commit returned; each flush reason of the
 * {@link GroupCommitPolicy} commits and is counted; in {@link SyncMode#OS} the force comes once the
 * interval passed, by the writer's clock; a failed commit fails its batches and nothing after.
 */
class GroupCommitWriterTest {

  private Vertx vertx;
  private Context context;
  private WatchedStore store;
  private GroupCommitWriter writer;
  private SimpleMeterRegistry registry;
  private final AtomicLong clock = new AtomicLong();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    context = vertx.getOrCreateContext();
    store = new WatchedStore(MvMessageStore.open(Files.createTempDirectory("dstream-writer"), 8, SyncPolicy.always()));
    registry = new SimpleMeterRegistry();
  }

  private void startWriter(GroupCommitPolicy policy, SyncPolicy sync) {
    writer = new GroupCommitWriter(store, policy, sync, 1024, registry, clock::get);
  }

  @AfterEach
  void stop() {
    if (writer != null) {
      writer.close();
    }
    store.close();
    vertx.close().await();
  }

  /** Submits one append of {@code bytes} bytes; the future completes on the context with the record. */
  private CompletableFuture<SubjectRecord> submit(String subject, long sequence, int bytes) {
    CompletableFuture<SubjectRecord> done = new CompletableFuture<>();
    WriteBatch batch = new WriteBatch(subject, List.of(new StoreWrite.Append(sequence, 0, new byte[bytes])), context,
        (record, failure) -> {
          store.events.add("ack " + subject);
          if (failure != null) {
            done.completeExceptionally(failure);
          } else {
            done.complete(record);
          }
        });
    assertTrue(writer.submit(batch));
    return done;
  }

  /** Runs a task on the acknowledging context and waits for it: every acknowledgement dispatched before it has run. */
  private void drainContext() throws Exception {
    CompletableFuture<Void> drained = new CompletableFuture<>();
    context.runOnContext(v -> drained.complete(null));
    drained.get(10, TimeUnit.SECONDS);
  }

  private double commitsFor(String reason) {
    return registry.get("dstream_commits").tag("reason", reason).counter().count();
  }

  /**
   * Fails if the force is removed (the writer never reaches {@link MessageStore#sync}) or moved after
   * the acknowledgement (the acknowledgement is dispatched while the force is still held).
   */
  @Test
  void noBatchIsAcknowledgedBeforeTheForceAfterItsCommitReturned() throws Exception {
    startWriter(GroupCommitPolicy.DEFAULT, SyncPolicy.always());
    store.open("a");
    store.holdSync();
    CompletableFuture<SubjectRecord> acked = submit("a", 1, 16);
    assertTrue(store.syncEntered.await(10, TimeUnit.SECONDS), "the writer forces the store before acknowledging");
    drainContext();
    assertFalse(acked.isDone(), "acknowledged while the force was still running: " + store.events);
    store.releaseSync();
    assertEquals(1, acked.get(10, TimeUnit.SECONDS).lastSequence());
    assertEquals(List.of("apply 1", "commit", "sync", "ack a"), List.copyOf(store.events));
  }

  @Test
  void batchesOfManySubjectsShareCommitsAndEachIsAcknowledgedOnlyOnceItsCommitWasForced() throws Exception {
    startWriter(GroupCommitPolicy.DEFAULT, SyncPolicy.always());
    int subjects = 20;
    int batchesPerSubject = 50;
    CountDownLatch done = new CountDownLatch(subjects * batchesPerSubject);
    ConcurrentLinkedQueue<String> violations = new ConcurrentLinkedQueue<>();
    for (int s = 0; s < subjects; s++) {
      String subject = "s" + s;
      store.open(subject);
      Context own = vertx.getOrCreateContext();
      own.runOnContext(v -> submitChain(own, subject, 1, batchesPerSubject, violations, done));
    }
    assertTrue(done.await(60, TimeUnit.SECONDS));
    assertEquals(0, violations.size(),
        "acknowledged before its commit was forced, e.g. " + violations.stream().limit(3).toList());
    long commits = store.commits.get();
    assertTrue(commits < subjects * batchesPerSubject, "batches of different subjects share commits: " + commits);
    assertEquals(commits, store.syncs.get(), "one force per commit");
    double flushes = registry.find("dstream_commits").counters().stream().mapToDouble(c -> c.count()).sum();
    assertEquals(commits, (long) flushes, "every commit counts its reason");
  }

  /** One batch in flight per subject, like a stream actor. */
  private void submitChain(Context own, String subject, int sequence, int last, ConcurrentLinkedQueue<String> violations,
                           CountDownLatch done) {
    WriteBatch batch = new WriteBatch(subject, List.of(new StoreWrite.Append(sequence, 0, new byte[128])), own,
        (record, failure) -> {
          Long commit = store.appliedInCommit.get(subject + "#" + sequence);
          if (failure != null || commit == null || store.forcedCommits.get() < commit
              || record.lastSequence() != sequence) {
            violations.add(subject + "#" + sequence + " in commit " + commit + ", forced up to "
                + store.forcedCommits.get());
          }
          done.countDown();
          if (sequence < last) {
            submitChain(own, subject, sequence + 1, last, violations, done);
          }
        });
    assertTrue(writer.submit(batch));
  }

  @Test
  void aLoneBatchIsCommittedWhenTheQueueIsEmpty() throws Exception {
    startWriter(GroupCommitPolicy.DEFAULT, SyncPolicy.always());
    store.open("a");
    submit("a", 1, 8).get(10, TimeUnit.SECONDS);
    assertEquals(1, commitsFor("queue_empty"));
    assertEquals(0, commitsFor("max_messages") + commitsFor("max_bytes") + commitsFor("max_delay"));
  }

  @Test
  void aGroupIsCommittedAtTheMessageThresholdWithMoreWaiting() throws Exception {
    startWriter(new GroupCommitPolicy(3, Integer.MAX_VALUE, 0), SyncPolicy.always());
    List<CompletableFuture<SubjectRecord>> acks = queueBehindAHeldGroup(5, 8);
    for (CompletableFuture<SubjectRecord> ack : acks) {
      ack.get(10, TimeUnit.SECONDS);
    }
    assertEquals(1, commitsFor("max_messages"), "3 of the 5 waiting batches, then the rest: " + store.events);
    assertTrue(store.events.contains("apply 3"), store.events.toString());
  }

  @Test
  void aGroupIsCommittedAtTheByteThresholdWithMoreWaiting() throws Exception {
    startWriter(new GroupCommitPolicy(Integer.MAX_VALUE, 100, 0), SyncPolicy.always());
    List<CompletableFuture<SubjectRecord>> acks = queueBehindAHeldGroup(3, 60);
    for (CompletableFuture<SubjectRecord> ack : acks) {
      ack.get(10, TimeUnit.SECONDS);
    }
    assertEquals(1, commitsFor("max_bytes"), "60 + 60 bytes reach 100, the third waits: " + store.events);
    assertTrue(store.events.contains("apply 2"), store.events.toString());
  }

  /**
   * Holds the writer inside the apply of a first group while {@code batches} batches of one append of
   * {@code bytes} bytes queue up (one per subject), then lets it go.
   */
  private List<CompletableFuture<SubjectRecord>> queueBehindAHeldGroup(int batches, int bytes) throws Exception {
    store.open("first");
    store.holdApply();
    CompletableFuture<SubjectRecord> first = submit("first", 1, 1);
    assertTrue(store.applyEntered.await(10, TimeUnit.SECONDS));
    List<CompletableFuture<SubjectRecord>> acks = new ArrayList<>();
    for (int i = 0; i < batches; i++) {
      store.open("q" + i);
      acks.add(submit("q" + i, 1, bytes));
    }
    store.releaseApply();
    acks.add(first);
    return acks;
  }

  @Test
  void aGroupIsCommittedOnceItsFirstBatchWaitedTheDelay() throws Exception {
    startWriter(new GroupCommitPolicy(Integer.MAX_VALUE, Integer.MAX_VALUE, 20_000), SyncPolicy.always());
    store.open("a");
    submit("a", 1, 8).get(10, TimeUnit.SECONDS);
    assertEquals(1, commitsFor("max_delay"));
    assertEquals(0, commitsFor("queue_empty"));
  }

  /**
   * {@code os} mode: commits are acknowledged without a force; the force comes once the interval has
   * passed on the writer's clock (here moved by hand), when the writer idles or before its next commit.
   * A SIGKILL cannot tell this from {@code always}; the calls on the store can.
   */
  @Test
  void osModeAcknowledgesWithoutForcingAndForcesOnceTheIntervalPassed() throws Exception {
    startWriter(GroupCommitPolicy.DEFAULT, new SyncPolicy(SyncMode.OS, Duration.ofSeconds(1)));
    store.open("a");
    submit("a", 1, 8).get(10, TimeUnit.SECONDS);
    submit("a", 2, 8).get(10, TimeUnit.SECONDS);
    assertEquals(0, store.syncs.get(), "acknowledged without a force: " + store.events);
    clock.addAndGet(Duration.ofMillis(999).toNanos());
    submit("a", 3, 8).get(10, TimeUnit.SECONDS);
    assertEquals(0, store.syncs.get(), "not before the interval: " + store.events);
    clock.addAndGet(Duration.ofMillis(1).toNanos());
    assertTrue(store.syncEntered.await(10, TimeUnit.SECONDS), "the idle writer forces once the interval passed");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (store.forcedCommits.get() < 3 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(3, store.forcedCommits.get(), "the force covers every acknowledged commit");
    submit("a", 4, 8).get(10, TimeUnit.SECONDS);
    assertEquals(1, store.syncs.get(), "nothing more to force until the interval passes again: " + store.events);
    clock.addAndGet(Duration.ofSeconds(1).toNanos());
    submit("a", 5, 8);
    while (store.forcedCommits.get() < 4 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertEquals(4, store.forcedCommits.get(), "forced before the next commit or at the next idle poll");
  }

  @Test
  void aFailedCommitFailsItsBatchesAndTheWriterRecovers() throws Exception {
    startWriter(GroupCommitPolicy.DEFAULT, SyncPolicy.always());
    store.open("disk");
    store.failCommits = true;
    AtomicReference<Throwable> failure = new AtomicReference<>();
    try {
      submit("disk", 1, 8).get(10, TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      failure.set(e.getCause());
    }
    assertNotNull(failure.get());
    assertTrue(failure.get().getMessage().contains("No space left"), failure.get().getMessage());
    assertEquals(0, store.find("disk").lastSequence(), "the failed write was rolled back");
    assertTrue(store.events.contains("rollback"));
    assertEquals(0, store.syncs.get(), "nothing was acknowledged, nothing forced");

    store.failCommits = false;
    assertEquals(1, submit("disk", 1, 8).get(10, TimeUnit.SECONDS).lastSequence());
  }

  @Test
  void batchesAfterCloseAreRefused() {
    startWriter(GroupCommitPolicy.DEFAULT, SyncPolicy.always());
    writer.close();
    AtomicInteger called = new AtomicInteger();
    assertFalse(writer.submit(new WriteBatch("a", List.of(), context, (r, e) -> called.incrementAndGet())));
    assertEquals(0, called.get());
  }
}
