package io.dstream.broker.cluster;

import io.dstream.broker.store.MessageStore;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
import org.apache.ratis.proto.RaftProtos.RoleInfoProto;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftGroupMemberId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.protocol.TermIndex;
import org.apache.ratis.server.raftlog.RaftLog;
import org.apache.ratis.server.storage.FileInfo;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.statemachine.StateMachineStorage;
import org.apache.ratis.statemachine.TransactionContext;
import org.apache.ratis.statemachine.impl.BaseStateMachine;
import org.apache.ratis.statemachine.impl.SimpleStateMachineStorage;
import org.apache.ratis.statemachine.impl.SingleFileSnapshotInfo;
import org.apache.ratis.util.LifeCycle;
import org.apache.ratis.util.MD5FileUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * One partition's Raft state machine on this node: applies the partition's committed entries into
 * the node's H2 store through the {@link ReplicaWriter}, in log order, and hands the outcomes of the
 * entries this node proposed to its {@link ReplicatedWriter}, which answers the actors. Ratis calls it
 * on one thread per partition (its state machine updater).
 *
 * <p>Restart: Ratis replays the log from the last snapshot; entries the store already holds (its
 * recorded position) are skipped, so replay is idempotent.
 *
 * <p>Snapshots hold no data: the store records its applied position in every commit, so a snapshot
 * at index {@code i} is the store forced to the disk once it applied {@code i}, and a file that says
 * so, which lets Ratis purge the log up to {@code i}. A replica that needs entries the leader purged
 * is told so by Ratis ({@link #notifyInstallSnapshotFromLeader}; the leader sends no snapshot files)
 * and copies the partition's state from the leader ({@link CopyTarget}, {@link PartitionCopy}); while
 * it does, its entries wait.
 */
final class PartitionMachine extends BaseStateMachine {

  private static final Logger LOG = LoggerFactory.getLogger(PartitionMachine.class);

  /** What the machine needs from its node. */
  interface Node {
    /**
     * Who proposes this node's entries in this run of its process: the node id and a random part, so
     * that an entry proposed before a restart, and applied after it, completes nothing of this run.
     */
    String origin();

    MessageStore store();

    ReplicaWriter replicas();

    Placement placement();

    /** An entry this node proposed was applied here: its outcomes go to the actors' batches. */
    void applied(int partition, long entryId, List<ReplicaWriter.Outcome> outcomes);

    /** Leadership of some partition may have changed. */
    void leaderChanged();

    /** Copies the partition from {@code source} (or its leader), running {@code first} on the copying thread first. */
    CompletableFuture<ReplicaWriter.Applied> copy(int partition, String source, Runnable first);

    /** Whether this node is serving a copy of the partition to another replica. */
    boolean servingCopy(int partition);
  }

  private final int partition;
  private final Node node;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  /** Guards {@link #inStore} and {@link #copying}: the copy thread waits for an entry being applied, and entries for a copy. */
  private final Object gate = new Object();
  /** The last index the store holds. */
  private long inStore;
  /** Whether a copy from another replica is replacing the partition in the store. */
  private boolean copying;

  PartitionMachine(int partition, Node node) {
    this.partition = partition;
    this.node = node;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    recover();
    // BaseStateMachine leaves its life cycle NEW; the reload after a copy needs RUNNING (pause, then reinitialize).
    getLifeCycle().transition(LifeCycle.State.STARTING);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  /**
   * The store's position. A copy interrupted by a crash left the partition incomplete: it is cleared,
   * and this replica starts empty (ClusterNode removed its Raft directory, so it joins as a new one).
   */
  private void recover() throws IOException {
    ReplicaWriter.Applied applied = node.replicas().applied(partition);
    if (applied.copying()) {
      LOG.warn("partition {}: a copy from another replica was interrupted; this replica starts empty", partition);
      PartitionCopy.clear(node.replicas(), node.store(), node.placement(), partition);
      node.replicas().write(List.of(ReplicaWriter.markerWrite(partition, ReplicaWriter.Applied.NONE))).join();
      applied = ReplicaWriter.Applied.NONE;
    }
    inStore = applied.index();
    SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
    if (snapshot != null && snapshot.getIndex() > inStore) {
      throw new IOException("partition " + partition + ": the store holds entries up to " + inStore
          + " but the Raft log starts after snapshot " + snapshot.getIndex() + ", forced to the store before: the "
          + "store file was lost or replaced: remove this node's whole data directory to rebuild it from its peers");
    }
    if (snapshot != null) {
      setLastAppliedTermIndex(snapshot.getTermIndex());
    }
  }

  @Override
  public StateMachineStorage getStateMachineStorage() {
    return storage;
  }

  /**
   * Ratis pauses the machine before it reloads it after a copy was installed. A pause that finds it
   * paused already (a reload that failed) must not throw: that would fail the next reload too, and
   * leave the follower behind for good.
   */
  @Override
  public void pause() {
    LifeCycle.State state = getLifeCycle().getCurrentState();
    if (state == LifeCycle.State.PAUSING || state == LifeCycle.State.PAUSED) {
      return;
    }
    getLifeCycle().transition(LifeCycle.State.PAUSING);
    getLifeCycle().transition(LifeCycle.State.PAUSED);
  }

  /** A read answers nothing: it serves only to confirm a leadership with a majority (ClusterNode#termCheck). */
  @Override
  public CompletableFuture<Message> query(Message request) {
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /** After a copy was installed ({@link #notifyInstallSnapshotFromLeader}), Ratis reloads its snapshot. */
  @Override
  public void reinitialize() throws IOException {
    storage.loadLatestSnapshot();
    SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
    if (snapshot != null) {
      setLastAppliedTermIndex(snapshot.getTermIndex());
    }
    getLifeCycle().transition(LifeCycle.State.STARTING);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  /**
   * The leader no longer has the entries this replica lacks: copy the partition from it. Entries
   * this replica still applies from its own log wait until the copy is in, then those it covers are
   * skipped; Ratis then resumes the log after the copy's index.
   */
  @Override
  public CompletableFuture<TermIndex> notifyInstallSnapshotFromLeader(RoleInfoProto role, TermIndex firstInLeaderLog) {
    String leader = role.getFollowerInfo().getLeaderInfo().getId().getId().toStringUtf8();
    LOG.info("partition {}: the leader's log starts at {}, after this replica's; copying the partition from {}",
        partition, firstInLeaderLog, leader);
    return node.copy(partition, leader, () -> {
      synchronized (gate) {
        copying = true;
      }
    }).thenApply(applied -> {
      TermIndex copied = TermIndex.valueOf(applied.term(), applied.index());
      try {
        recordSnapshot(copied);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      synchronized (gate) {
        inStore = applied.index();
        copying = false;
        gate.notifyAll();
      }
      return copied;
    });
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext transaction) {
    LogEntryProto entry = transaction.getLogEntry();
    long index = entry.getIndex();
    synchronized (gate) {
      while (copying) {
        try {
          gate.wait();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return CompletableFuture.failedFuture(e);
        }
      }
      if (index > inStore) {
        Entry decoded = Entry.decode(entry.getStateMachineLogEntry().getLogData().toByteArray());
        List<ReplicaWriter.Outcome> outcomes = node.replicas().apply(partition, entry.getTerm(), index, decoded.writes())
            .join();
        inStore = index;
        if (decoded.origin().equals(node.origin())) {
          node.applied(partition, decoded.id(), outcomes);
        }
      }
    }
    updateLastAppliedTermIndex(entry.getTerm(), index);
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /**
   * Runs on the updater thread, once the store applied every entry up to the last applied index:
   * records that index in the store and forces it, then takes it as the snapshot. Skipped while the partition is being
   * copied here, or served as a copy from here (its replica applies the log after the copy's cut).
   */
  @Override
  public long takeSnapshot() throws IOException {
    TermIndex applied = getLastAppliedTermIndex();
    synchronized (gate) {
      if (copying) {
        return RaftLog.INVALID_LOG_INDEX;
      }
    }
    if (applied == null || applied.getIndex() <= 0 || node.servingCopy(partition)) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    try {
      node.replicas().forcePosition(partition, new ReplicaWriter.Applied(applied.getTerm(), applied.getIndex())).join();
    } catch (CompletionException e) {
      throw new IOException("forcing the store for a snapshot failed: " + e.getCause().getMessage(), e.getCause());
    }
    recordSnapshot(applied);
    return applied.getIndex();
  }

  /** The snapshot file: the position alone (the store holds the data), for Ratis and for anyone reading the directory. */
  private void recordSnapshot(TermIndex position) throws IOException {
    File file = storage.getSnapshotFile(position.getTerm(), position.getIndex());
    Files.writeString(file.toPath(), "store forced at term " + position.getTerm() + ", index " + position.getIndex() + "\n");
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(
        new FileInfo(file.toPath(), MD5FileUtil.computeAndSaveMd5ForFile(file)), position));
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    node.leaderChanged();
  }
}
