package io.dstream.broker.cluster;

import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.SubjectWrites;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * In cluster mode, the one thread that writes the node's H2 store: it applies the committed Raft
 * entries of every partition this node holds, several partitions' entries in one store commit, and
 * records with each entry the partition's applied index (a view of the system subject
 * {@code $DS.CLUSTER.P<p>}), in the same commit. So after a crash the store itself says which entries
 * it holds, and the replay of the Raft log skips them.
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
  /** Entries of several partitions committed together at most; more wait for the next commit. */
  private static final int MAX_ENTRIES_PER_COMMIT = 64;

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
  private final LinkedBlockingQueue<Work> queue = new LinkedBlockingQueue<>();
  private final Thread thread;

  ReplicaWriter(MessageStore store) {
    this.store = store;
    this.thread = new Thread(this::run, "dstream-replica-writer");
    this.thread.start();
  }

  static String marker(int partition) {
    return MARKER_PREFIX + partition;
  }

  static boolean isMarker(String subject) {
    return subject.startsWith(MARKER_PREFIX);
  }

  /** Applies a committed entry's writes; completes with one outcome per subject, in order, once committed. */
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
   * Runs {@code task} on the writer thread, between two commits: it sees exactly the committed
   * entries, and no commit runs until it returns (PartitionCopy#cut).
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
        Work first = queue.poll(1, TimeUnit.SECONDS);
        if (first == null) {
          continue;
        }
        if (first == STOP) {
          return;
        }
        if (first instanceof Task<?> task) {
          task.run();
          continue;
        }
        group.add((Unit) first);
        while (group.size() < MAX_ENTRIES_PER_COMMIT && queue.peek() instanceof Unit) {
          group.add((Unit) queue.poll());
        }
        commit(group);
        group.clear();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
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
   * Applies the group in one commit. If the store refuses anything (the checks below should have
   * caught it), each entry is applied again alone, and an entry the store refuses alone is refused
   * whole, with its marker still recorded: the same outcome every replica reaches.
   */
  private void commit(List<Unit> group) {
    List<List<Outcome>> outcomes = new ArrayList<>(group.size());
    try {
      Map<String, SubjectRecord> current = new HashMap<>();
      for (Unit unit : group) {
        outcomes.add(applyUnit(unit, current));
      }
      store.commit();
    } catch (RuntimeException e) {
      rollbackQuietly();
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
      List<Outcome> outcome = applyUnit(unit, new HashMap<>());
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

  private List<Outcome> applyUnit(Unit unit, Map<String, SubjectRecord> current) {
    List<Outcome> outcomes = new ArrayList<>(unit.writes().size());
    List<SubjectWrites> accepted = new ArrayList<>(unit.writes().size() + 1);
    List<Integer> positions = new ArrayList<>(unit.writes().size());
    for (SubjectWrites writes : unit.writes()) {
      SubjectRecord before = current.containsKey(writes.subject()) ? current.get(writes.subject())
          : store.find(writes.subject());
      String refusal = refusal(writes, before);
      outcomes.add(new Outcome(null, refusal));
      if (refusal == null) {
        positions.add(outcomes.size() - 1);
        accepted.add(writes);
      }
    }
    accepted.add(markerWrite(unit.partition(), unit.term(), unit.index()));
    List<SubjectRecord> records = store.apply(accepted);
    for (int i = 0; i < positions.size(); i++) {
      SubjectRecord record = records.get(i);
      current.put(accepted.get(i).subject(), record);
      outcomes.set(positions.get(i), new Outcome(record, null));
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

  /** Applies what is queued, then stops the thread. */
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
