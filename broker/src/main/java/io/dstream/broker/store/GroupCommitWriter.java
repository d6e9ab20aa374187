package io.dstream.broker.store;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * The single thread that writes to the {@link MessageStore}: it collects the {@link WriteBatch}es of all
 * subjects, applies them in one {@link MessageStore#apply}, commits once and, with
 * {@link SyncMode#ALWAYS}, forces the store ({@link MessageStore#sync}); only then does it complete
 * every batch of the group. No batch is completed before the commit that holds it returned, nor in
 * {@code ALWAYS} before the force after it returned ({@code GroupCommitWriterTest} watches the calls).
 *
 * <p>When to commit is the {@link GroupCommitPolicy}; each commit counts its {@link FlushReason}
 * ({@code dstream_commits_total{reason}}). When to force is the {@link SyncPolicy}: in
 * {@link SyncMode#OS} a commit is acknowledged once written, and the store is forced before the next
 * commit or, when the writer idles, at its next idle poll once the last force is older than the
 * interval, so an OS crash loses at most the interval plus one commit (or plus one idle poll).
 * The queue is bounded: {@link #submit} refuses a batch when it is full, so a flood of writers
 * gets errors instead of growing memory.
 *
 * <p>Thread-safety: {@link #submit} from any thread; everything else runs on the writer thread.
 */
public final class GroupCommitWriter implements BatchWriter, AutoCloseable {

  /** Why a group was committed. */
  public enum FlushReason {
    /** Nothing else was waiting (the policy's delay is 0). */
    QUEUE_EMPTY,
    /** The message threshold was reached. */
    MAX_MESSAGES,
    /** The byte threshold was reached. */
    MAX_BYTES,
    /** The first batch of the group has waited the policy's delay (a delay above 0). */
    MAX_DELAY
  }

  private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);
  /** Compaction runs between groups: after this long when the writer is idle, after twice this under load. */
  private static final long COMPACT_INTERVAL_MS = 30_000;
  /** How long an idle writer waits for work before it looks at compaction and the {@code os}-mode force. */
  private static final long IDLE_POLL_MS = 50;
  private static final WriteBatch STOP = new WriteBatch("", List.of(), null, null);

  private final MessageStore store;
  private final GroupCommitPolicy policy;
  private final SyncPolicy sync;
  private final LongSupplier nanoClock;
  /** Writer thread only: when the store was last forced, and whether commits happened since. */
  private long lastSyncNanos;
  private boolean unsynced;
  private final BlockingQueue<WriteBatch> queue;
  private final Thread thread;
  private final Map<FlushReason, Counter> flushes = new EnumMap<>(FlushReason.class);
  private final Timer commitTimer;
  private final DistributionSummary groupMessages;
  private volatile boolean stopped;

  public GroupCommitWriter(MessageStore store, GroupCommitPolicy policy, SyncPolicy sync, int queueCapacity,
                           MeterRegistry registry) {
    this(store, policy, sync, queueCapacity, registry, System::nanoTime);
  }

  /** With the clock that times the policy's delay and the {@code os}-mode force (tests move it by hand). */
  GroupCommitWriter(MessageStore store, GroupCommitPolicy policy, SyncPolicy sync, int queueCapacity,
                    MeterRegistry registry, LongSupplier nanoClock) {
    this.store = store;
    this.policy = policy;
    this.sync = sync;
    this.nanoClock = nanoClock;
    this.lastSyncNanos = nanoClock.getAsLong();
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
    for (FlushReason reason : FlushReason.values()) {
      flushes.put(reason, Counter.builder("dstream_commits").tag("reason", reason.name().toLowerCase(java.util.Locale.ROOT))
          .description("Group commits by the rule that triggered them").register(registry));
    }
    this.commitTimer = Timer.builder("dstream_commit_latency").tag("sync", sync.mode().name().toLowerCase(java.util.Locale.ROOT))
        .description("Time to commit (and fsync) one group").publishPercentileHistogram().register(registry);
    this.groupMessages = DistributionSummary.builder("dstream_commit_group_writes")
        .description("Writes per group commit").register(registry);
    this.thread = new Thread(this::run, "dstream-writer");
    this.thread.start();
  }

  @Override
  public boolean submit(WriteBatch batch) {
    return !stopped && queue.offer(batch);
  }

  private void run() {
    List<WriteBatch> group = new ArrayList<>();
    long lastCompaction = System.currentTimeMillis();
    boolean wroteSinceCompaction = false;
    try {
      while (true) {
        WriteBatch first = queue.poll(IDLE_POLL_MS, TimeUnit.MILLISECONDS);
        long sinceCompaction = System.currentTimeMillis() - lastCompaction;
        boolean idle = first == null;
        if (wroteSinceCompaction && sinceCompaction >= (idle ? COMPACT_INTERVAL_MS : 2 * COMPACT_INTERVAL_MS)) {
          compactQuietly();
          lastCompaction = System.currentTimeMillis();
          wroteSinceCompaction = false;
        }
        if (idle) {
          forceIfDueQuietly();
          continue;
        }
        if (first == STOP) {
          return;
        }
        group.add(first);
        FlushReason reason = collect(group, first.bytes(), first.writes().size());
        boolean stop = group.get(group.size() - 1) == STOP;
        if (stop) {
          group.remove(group.size() - 1);
        }
        commitGroup(group, reason);
        group.clear();
        wroteSinceCompaction = true;
        if (stop) {
          return;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Adds waiting batches to {@code group} until the policy says commit; returns the reason. */
  private FlushReason collect(List<WriteBatch> group, int bytes, int writes) throws InterruptedException {
    long delay = TimeUnit.MICROSECONDS.toNanos(policy.maxDelayMicros());
    long deadline = nanoClock.getAsLong() + delay;
    while (true) {
      if (writes >= policy.maxMessages()) {
        return FlushReason.MAX_MESSAGES;
      }
      if (bytes >= policy.maxBytes()) {
        return FlushReason.MAX_BYTES;
      }
      long wait = deadline - nanoClock.getAsLong();
      if (delay > 0 && wait <= 0) {
        return FlushReason.MAX_DELAY;
      }
      WriteBatch next = queue.poll();
      if (next == null && delay == 0) {
        return FlushReason.QUEUE_EMPTY;
      }
      if (next == null) {
        next = queue.poll(wait, TimeUnit.NANOSECONDS);
        if (next == null) {
          return FlushReason.MAX_DELAY;
        }
      }
      group.add(next);
      if (next == STOP) {
        return delay == 0 ? FlushReason.QUEUE_EMPTY : FlushReason.MAX_DELAY;
      }
      bytes += next.bytes();
      writes += next.writes().size();
    }
  }

  private void commitGroup(List<WriteBatch> group, FlushReason reason) {
    if (group.isEmpty()) {
      return;
    }
    List<SubjectWrites> writes = new ArrayList<>(group.size());
    int writeCount = 0;
    for (WriteBatch batch : group) {
      writes.add(new SubjectWrites(batch.subject(), batch.writes()));
      writeCount += batch.writes().size();
    }
    List<SubjectRecord> records;
    try {
      if (sync.mode() == SyncMode.OS) {
        forceIfDue();
      }
      records = store.apply(writes);
      long start = System.nanoTime();
      commitAndForce();
      commitTimer.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    } catch (RuntimeException e) {
      LOG.error("commit of {} batches failed; their writes are rolled back and refused", group.size(), e);
      rollbackQuietly();
      StoreException failure = new StoreException("storage write failed: " + e.getMessage(), e);
      for (WriteBatch batch : group) {
        batch.context().runOnContext(v -> batch.onDone().accept(null, failure));
      }
      return;
    }
    flushes.get(reason).increment();
    groupMessages.record(writeCount);
    for (int i = 0; i < group.size(); i++) {
      WriteBatch batch = group.get(i);
      SubjectRecord record = records.get(i);
      batch.context().runOnContext(v -> batch.onDone().accept(record, null));
    }
  }

  /** The durability rule: the commit, then in {@code ALWAYS} the force, both before any batch completes. */
  private void commitAndForce() {
    store.commit();
    if (sync.mode() == SyncMode.ALWAYS) {
      store.sync();
    } else {
      unsynced = true;
    }
  }

  /** In {@code OS} mode: forces the commits made since the last force once that force is older than the interval. */
  private void forceIfDue() {
    long now = nanoClock.getAsLong();
    if (unsynced && now - lastSyncNanos >= sync.osInterval().toNanos()) {
      store.sync();
      lastSyncNanos = now;
      unsynced = false;
    }
  }

  private void rollbackQuietly() {
    try {
      store.rollback();
    } catch (RuntimeException e) {
      LOG.error("rollback after a failed commit failed too", e);
    }
  }

  private void forceIfDueQuietly() {
    try {
      forceIfDue();
    } catch (RuntimeException e) {
      LOG.warn("forcing the store failed", e);
    }
  }

  private void compactQuietly() {
    try {
      store.compact();
    } catch (RuntimeException e) {
      LOG.warn("store compaction failed", e);
    }
  }

  /** Commits what is queued, then stops the thread. Batches submitted afterwards are refused. */
  @Override
  public void close() {
    stopped = true;
    try {
      queue.put(STOP);
      thread.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
