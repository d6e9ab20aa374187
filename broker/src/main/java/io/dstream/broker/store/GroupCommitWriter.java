package io.dstream.broker.store;

import io.dstream.broker.config.GroupCommitPolicy;
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

/**
 * The single thread that writes to the {@link MessageStore}: it collects the {@link WriteBatch}es of all
 * subjects, applies them, commits once (forcing the file in {@link SyncMode#ALWAYS}), and only then
 * completes every batch of the group. No batch is completed before the commit that holds it returned.
 *
 * <p>When to commit is the {@link GroupCommitPolicy}; each commit counts its {@link FlushReason}.
 * The queue is bounded: {@link #submit} refuses a batch when it is full, so a flood of writers
 * gets errors instead of growing memory.
 *
 * <p>Thread-safety: {@link #submit} from any thread; everything else runs on the writer thread.
 */
public final class GroupCommitWriter implements AutoCloseable {

  /** Why a group was committed. */
  public enum FlushReason {
    /** Nothing else was waiting (after the optional delay). */
    QUEUE_EMPTY,
    /** The message threshold was reached. */
    MAX_MESSAGES,
    /** The byte threshold was reached. */
    MAX_BYTES
  }

  private static final Logger LOG = LoggerFactory.getLogger(GroupCommitWriter.class);
  /** Compaction runs between groups: after this long when the writer is idle, after twice this under load. */
  private static final long COMPACT_INTERVAL_MS = 30_000;
  /** Keeps one eviction from holding up a group commit; the rest goes with the next one. */
  private static final int MAX_EVICTIONS_PER_WRITE = 10_000;
  /** How long an idle writer waits for work before it looks at compaction and {@link MessageStore#syncIfDue}. */
  private static final long IDLE_POLL_MS = 50;
  private static final WriteBatch STOP = new WriteBatch("", List.of(), null, null);

  private final MessageStore store;
  private final GroupCommitPolicy policy;
  private final BlockingQueue<WriteBatch> queue;
  private final Thread thread;
  private final Map<FlushReason, Counter> flushes = new EnumMap<>(FlushReason.class);
  private final Timer commitTimer;
  private final DistributionSummary groupMessages;
  private volatile boolean stopped;

  public GroupCommitWriter(MessageStore store, GroupCommitPolicy policy, int queueCapacity, MeterRegistry registry) {
    this.store = store;
    this.policy = policy;
    this.queue = new ArrayBlockingQueue<>(queueCapacity);
    for (FlushReason reason : FlushReason.values()) {
      flushes.put(reason, Counter.builder("dstream_commits").tag("reason", reason.name().toLowerCase(java.util.Locale.ROOT))
          .description("Group commits by the rule that triggered them").register(registry));
    }
    this.commitTimer = Timer.builder("dstream_commit_latency").tag("sync", store.syncMode().name().toLowerCase(java.util.Locale.ROOT))
        .description("Time to commit (and fsync) one group").publishPercentileHistogram().register(registry);
    this.groupMessages = DistributionSummary.builder("dstream_commit_group_writes")
        .description("Writes per group commit").register(registry);
    this.thread = new Thread(this::run, "dstream-writer");
    this.thread.start();
  }

  /** Queues a batch; returns false (and keeps nothing) if the queue is full or the writer stopped. */
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
          syncIfDueQuietly();
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
    long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(policy.maxDelayMicros());
    while (true) {
      if (writes >= policy.maxMessages()) {
        return FlushReason.MAX_MESSAGES;
      }
      if (bytes >= policy.maxBytes()) {
        return FlushReason.MAX_BYTES;
      }
      WriteBatch next = queue.poll();
      if (next == null) {
        long wait = deadline - System.nanoTime();
        next = wait > 0 ? queue.poll(wait, TimeUnit.NANOSECONDS) : null;
        if (next == null) {
          return FlushReason.QUEUE_EMPTY;
        }
      }
      group.add(next);
      if (next == STOP) {
        return FlushReason.QUEUE_EMPTY;
      }
      bytes += next.bytes();
      writes += next.writes().size();
    }
  }

  private void commitGroup(List<WriteBatch> group, FlushReason reason) {
    if (group.isEmpty()) {
      return;
    }
    List<SubjectRecord> records = new ArrayList<>(group.size());
    int writes = 0;
    try {
      for (WriteBatch batch : group) {
        for (StoreWrite write : batch.writes()) {
          apply(batch.subject(), write);
        }
        writes += batch.writes().size();
        records.add(store.record(batch.subject()));
      }
      long start = System.nanoTime();
      store.commit();
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
    groupMessages.record(writes);
    for (int i = 0; i < group.size(); i++) {
      WriteBatch batch = group.get(i);
      SubjectRecord record = records.get(i);
      batch.context().runOnContext(v -> batch.onDone().accept(record, null));
    }
  }

  private void apply(String subject, StoreWrite write) {
    if (write instanceof StoreWrite.Append append) {
      store.append(subject, append.sequence(), append.timestampMs(), append.payload());
    } else if (write instanceof StoreWrite.PutState putState) {
      store.putState(subject, putState.stateJson());
    } else if (write instanceof StoreWrite.DeleteUpTo delete) {
      store.deleteUpTo(subject, delete.sequence());
    } else if (write instanceof StoreWrite.Evict evict) {
      store.evict(subject, evict, MAX_EVICTIONS_PER_WRITE);
    } else if (write instanceof StoreWrite.Restore restore) {
      store.restore(subject, restore);
    } else if (write instanceof StoreWrite.PutAttributes attributes) {
      store.putAttributes(subject, attributes.attributes());
    } else if (write instanceof StoreWrite.SetProducerVersion version) {
      store.setProducerVersion(subject, version.version());
    } else if (write instanceof StoreWrite.Destroy) {
      store.destroy(subject);
    }
  }

  private void rollbackQuietly() {
    try {
      store.rollback();
    } catch (RuntimeException e) {
      LOG.error("rollback after a failed commit failed too", e);
    }
  }

  private void syncIfDueQuietly() {
    try {
      store.syncIfDue();
    } catch (RuntimeException e) {
      LOG.warn("forcing the store file failed", e);
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
