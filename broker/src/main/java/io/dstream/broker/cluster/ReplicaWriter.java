package io.dstream.broker.cluster;

import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.SubjectWrites;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * In cluster mode, the one thread that writes the node's H2 store: it applies the committed Raft
 * entries of every partition this node holds and records with each entry the partition's applied
 * index (a view of the system subject {@code $DS.CLUSTER.P<p>}), so that every store commit holds
 * the entries up to a recorded index. After a crash the store itself says which entries it holds,
 * and the replay of the Raft log skips them.
 *
 * <p>An entry is answered once applied (its writes are readable), and the store commits the entries
 * applied since its last commit every {@code commitInterval}, or sooner past
 * {@code commitBytes} of their writes: a store commit costs about as much for one entry as for
 * hundreds (it rewrites the changed pages of every map), and one commit per entry was 70 % of this
 * thread's time under load (docs/benchmarks.md, run 14). Deferring it loses nothing: the Raft log
 * holds the entries, and a crash applies those after the last commit again. Should a store commit
 * fail, the store rolls back to its last commit and the entries answered since are applied again.
 *
 * <p>Applying is deterministic: every replica applies the same entries in the same order to the same
 * state. The actor on the leader assigned the sequences when it proposed them; an entry whose
 * sequence (or state revision) does not follow the subject's, because it was proposed by a deposed
 * leader's actor, is refused for that subject, the same way on every replica, and nothing of it is
 * stored. The store is not forced after a commit: the Raft log is the write-ahead log, and a commit
 * lost with the OS is applied again from it.
 *
 * <p>Bound: each partition's state machine waits for its entry before it applies the next, so at
 * most one entry per partition (plus a copy's work) is queued here.
 */
final class ReplicaWriter implements AutoCloseable {

  static final String MARKER_PREFIX = "$DS.CLUSTER.P";
  private static final String MARKER_VIEW = "raft";
  private static final Logger LOG = LoggerFactory.getLogger(ReplicaWriter.class);
  /** Entries of several partitions applied as one group at most; more wait for the next group. */
  private static final int MAX_ENTRIES_PER_GROUP = 64;

  /** What became of one subject's writes of an entry: its record after them, or why they were refused. */
  record Outcome(SubjectRecord record, String refusal) {
  }

  /** A partition's applied position, as recorded in the store. */
  record Applied(long term, long index) {
    static final Applied NONE = new Applied(0, 0);
    /** Recorded while a copy from another replica replaces the partition (PartitionCopy#install). */
    static final Applied COPYING = new Applied(-1, 0);

    boolean copying() {
      return term < 0;
    }
  }

  private interface Work {
  }

  private record Unit(int partition, long term, long index, List<SubjectWrites> writes,
                      CompletableFuture<List<Outcome>> done) implements Work {
    long bytes() {
      long bytes = 0;
      for (SubjectWrites subject : writes) {
        for (StoreWrite write : subject.writes()) {
          bytes += write.bytes();
        }
      }
      return bytes;
    }
  }

  private record Task<T>(Callable<T> task, CompletableFuture<T> done) implements Work {
    void run() {
      try {
        done.complete(task.call());
      } catch (Exception e) {
        done.completeExceptionally(e);
      }
    }
  }

  private static final Work STOP = new Work() { };

  private final MessageStore store;
  private final long commitIntervalNanos;
  private final long commitBytes;
  private final LinkedBlockingQueue<Work> queue = new LinkedBlockingQueue<>();
  private final Thread thread;
  /** Writer thread only: the entries applied and answered since the last store commit, in order. */
  private final List<Unit> uncommitted = new ArrayList<>();
  private long uncommittedBytes;
  private long firstUncommittedNanos;

  /**
   * {@code commitInterval}: how long applied entries may wait for the store's commit;
   * {@code commitBytes}: how many bytes of their writes may (a bound of the heap they hold).
   */
  ReplicaWriter(MessageStore store, Duration commitInterval, long commitBytes) {
    this.store = store;
    this.commitIntervalNanos = commitInterval.toNanos();
    this.commitBytes = commitBytes;
    this.thread = new Thread(this::run, "dstream-replica-writer");
    this.thread.start();
  }

  static String marker(int partition) {
    return MARKER_PREFIX + partition;
  }

  static boolean isMarker(String subject) {
    return subject.startsWith(MARKER_PREFIX);
  }

  /** Applies a committed entry's writes; completes with one outcome per subject, in order, once applied. */
  CompletableFuture<List<Outcome>> apply(int partition, long term, long index, List<SubjectWrites> writes) {
    CompletableFuture<List<Outcome>> done = new CompletableFuture<>();
    queue.add(new Unit(partition, term, index, writes, done));
    return done;
  }

  /** Applies and commits {@code writes} as they are, in one commit (a copy's installation). */
  CompletableFuture<Void> write(List<SubjectWrites> writes) {
    return run(() -> {
      commitAsIs(writes);
      return null;
    });
  }

  /**
   * Records that {@code partition} applied up to {@code applied} and forces the store to the disk: a
   * snapshot's promise that the store holds its entries, also those Ratis applies without the
   * machine (configuration entries), which leave no position of their own.
   */
  CompletableFuture<Void> forcePosition(int partition, Applied applied) {
    return run(() -> {
      commitAsIs(List.of(markerWrite(partition, applied)));
      store.sync();
      return null;
    });
  }

  /**
   * Runs {@code task} on the writer thread, between two commits: the entries applied before it are
   * committed, and no entry is applied until it returns (PartitionCopy#cut).
   */
  <T> CompletableFuture<T> run(Callable<T> task) {
    CompletableFuture<T> done = new CompletableFuture<>();
    queue.add(new Task<>(task, done));
    return done;
  }

  /** The marker write recording that {@code partition} applied up to {@code (term, index)}. */
  static SubjectWrites markerWrite(int partition, long term, long index) {
    return markerWrite(partition, new Applied(term, index));
  }

  static SubjectWrites markerWrite(int partition, Applied applied) {
    byte[] position = ByteBuffer.allocate(2 * Long.BYTES).putLong(applied.term()).putLong(applied.index()).array();
    return new SubjectWrites(marker(partition), List.of(new StoreWrite.PutView(MARKER_VIEW, position)));
  }

  /** The partition's applied position committed in the store. Any thread. */
  Applied applied(int partition) {
    SubjectRecord record = store.find(marker(partition));
    byte[] position = record == null ? new byte[0] : record.view(MARKER_VIEW);
    if (position.length != 2 * Long.BYTES) {
      return Applied.NONE;
    }
    ByteBuffer buffer = ByteBuffer.wrap(position);
    return new Applied(buffer.getLong(), buffer.getLong());
  }

  private void run() {
    List<Unit> group = new ArrayList<>();
    try {
      while (true) {
        Work first = queue.poll(untilCommitDue(), TimeUnit.NANOSECONDS);
        if (first == null) {
          commitIfDue();
          continue;
        }
        if (first == STOP) {
          commitApplied();
          return;
        }
        if (first instanceof Task<?> task) {
          commitApplied();
          task.run();
          continue;
        }
        group.add((Unit) first);
        while (group.size() < MAX_ENTRIES_PER_GROUP && queue.peek() instanceof Unit) {
          group.add((Unit) queue.poll());
        }
        applyGroup(group);
        group.clear();
        commitIfDue();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (RuntimeException e) {
      LOG.error("the replica writer stopped: the store fails; this node applies no more entries until it restarts", e);
      throw e;
    }
  }

  private long untilCommitDue() {
    return uncommitted.isEmpty() ? TimeUnit.SECONDS.toNanos(1)
        : Math.max(0, firstUncommittedNanos + commitIntervalNanos - System.nanoTime());
  }

  private void commitIfDue() {
    if (!uncommitted.isEmpty() && (uncommittedBytes >= commitBytes
        || System.nanoTime() - firstUncommittedNanos >= commitIntervalNanos)) {
      commitApplied();
    }
  }

  /**
   * Commits the entries applied since the last commit. If the commit fails, the store is back at its
   * last commit: the entries, already answered, are applied again and committed once more; if that
   * fails too, the exception stops the writer (the disk is full or failing).
   */
  private void commitApplied() {
    if (uncommitted.isEmpty()) {
      return;
    }
    try {
      store.commit();
    } catch (RuntimeException e) {
      LOG.warn("the replica store's commit failed; the {} entries applied since the last one are applied again",
          uncommitted.size(), e);
      recommit();
      return;
    }
    uncommitted.clear();
    uncommittedBytes = 0;
  }

  /**
   * Rolls the store back to its last commit, then applies the entries answered since again and
   * commits them (a rollback must never take back an answered entry).
   */
  private void recommit() {
    rollbackQuietly();
    if (uncommitted.isEmpty()) {
      return;
    }
    for (Unit unit : uncommitted) {
      applyUnit(unit);
    }
    store.commit();
    uncommitted.clear();
    uncommittedBytes = 0;
  }

  /** Writer thread: applies and commits {@code writes}, or rolls them back and throws. */
  private void commitAsIs(List<SubjectWrites> writes) {
    try {
      store.apply(writes);
      store.commit();
    } catch (RuntimeException e) {
      rollbackQuietly();
      throw e;
    }
  }

  /**
   * Applies the group and answers its entries. If the store refuses anything (the checks below should
   * have caught it), it rolls back to its last commit, the entries answered since are applied again,
   * and each entry of the group is applied alone: an entry the store refuses alone is refused whole,
   * with its marker still recorded, the same outcome every replica reaches.
   */
  private void applyGroup(List<Unit> group) {
    List<List<Outcome>> outcomes = new ArrayList<>(group.size());
    try {
      for (Unit unit : group) {
        outcomes.add(applyUnit(unit));
      }
      if (uncommitted.isEmpty()) {
        firstUncommittedNanos = System.nanoTime();
      }
      for (Unit unit : group) {
        uncommitted.add(unit);
        uncommittedBytes += unit.bytes();
      }
    } catch (RuntimeException e) {
      recommit();
      outcomes.clear();
      for (Unit unit : group) {
        outcomes.add(applyAlone(unit));
      }
    }
    for (int i = 0; i < group.size(); i++) {
      group.get(i).done().complete(outcomes.get(i));
    }
  }

  private List<Outcome> applyAlone(Unit unit) {
    try {
      List<Outcome> outcome = applyUnit(unit);
      store.commit();
      return outcome;
    } catch (RuntimeException e) {
      rollbackQuietly();
      LOG.error("partition {}: entry {} refused by the store on every replica alike", unit.partition(), unit.index(), e);
      try {
        store.apply(List.of(markerWrite(unit.partition(), unit.term(), unit.index())));
        store.commit();
      } catch (RuntimeException f) {
        rollbackQuietly();
        unit.done().completeExceptionally(f);
        throw f;
      }
      List<Outcome> refused = new ArrayList<>();
      for (int i = 0; i < unit.writes().size(); i++) {
        refused.add(new Outcome(null, "the store refused the write: " + e.getMessage()));
      }
      return refused;
    }
  }

  /** Applies one entry (the store publishes the records it changes, so the next entry's checks see them). */
  private List<Outcome> applyUnit(Unit unit) {
    List<Outcome> outcomes = new ArrayList<>(unit.writes().size());
    List<SubjectWrites> accepted = new ArrayList<>(unit.writes().size() + 1);
    List<Integer> positions = new ArrayList<>(unit.writes().size());
    for (SubjectWrites writes : unit.writes()) {
      String refusal = refusal(writes, store.find(writes.subject()));
      outcomes.add(new Outcome(null, refusal));
      if (refusal == null) {
        positions.add(outcomes.size() - 1);
        accepted.add(writes);
      }
    }
    accepted.add(markerWrite(unit.partition(), unit.term(), unit.index()));
    List<SubjectRecord> records = store.apply(accepted);
    for (int i = 0; i < positions.size(); i++) {
      outcomes.set(positions.get(i), new Outcome(records.get(i), null));
    }
    return outcomes;
  }

  /** Why these writes cannot follow the subject's state ({@code before}, null if absent), or null if they can. */
  static String refusal(SubjectWrites writes, SubjectRecord before) {
    long last = before == null ? 0 : before.lastSequence();
    long revision = before == null ? 0 : before.stateRevision();
    for (StoreWrite write : writes.writes()) {
      if (write instanceof StoreWrite.Append append) {
        if (append.sequence() != last + 1) {
          return "sequence " + append.sequence() + " does not follow " + last + " (proposed by a deposed leader)";
        }
        last++;
      } else if (write instanceof StoreWrite.PutState put) {
        if (put.revision() != revision + 1) {
          return "state revision " + put.revision() + " does not follow " + revision + " (proposed by a deposed leader)";
        }
        revision++;
      } else if (write instanceof StoreWrite.Restore restore) {
        if (last != 0) {
          return "cannot restore: the subject already has sequence " + last;
        }
        last = restore.lastSequence();
        revision = restore.stateRevision();
      } else if (write instanceof StoreWrite.Destroy) {
        last = 0;
        revision = 0;
      }
    }
    return null;
  }

  private void rollbackQuietly() {
    try {
      store.rollback();
    } catch (RuntimeException e) {
      LOG.error("rollback of the replica store failed", e);
    }
  }

  /** Applies what is queued and commits it, then stops the thread. */
  @Override
  public void close() {
    queue.add(STOP);
    try {
      thread.join(TimeUnit.SECONDS.toMillis(30));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
