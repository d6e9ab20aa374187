package io.dstream.broker.cluster;

import io.dstream.broker.store.MessageStore;
import org.apache.ratis.proto.RaftProtos.LogEntryProto;
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
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One partition's Raft state machine on this node: applies the partition's committed entries into
 * the node's H2 store through the {@link ReplicaWriter}, in log order, and hands the outcomes of the
 * entries this node proposed to its {@link ReplicatedWriter}, which answers the actors. Ratis calls it
 * on one thread per partition (its state machine updater).
 *
 * <p>Restart: Ratis replays the log from the last snapshot; entries the store already holds (its
 * recorded position) are skipped, so replay is idempotent. Snapshots are {@link PartitionSnapshot}
 * files; Ratis ships the newest to a replica that lost its disk or fell behind the purged log, and
 * {@link #reinitialize} installs it. A store found behind the newest snapshot (an OS crash lost
 * commits that were never forced) installs it at start.
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
  }

  private final int partition;
  private final Node node;
  private final SimpleStateMachineStorage storage = new SimpleStateMachineStorage();
  /** The last index the store holds; updater thread only. */
  private long inStore;

  PartitionMachine(int partition, Node node) {
    this.partition = partition;
    this.node = node;
  }

  @Override
  public void initialize(RaftServer server, RaftGroupId groupId, RaftStorage raftStorage) throws IOException {
    super.initialize(server, groupId, raftStorage);
    storage.init(raftStorage);
    catchUp();
    // BaseStateMachine leaves its life cycle NEW; installing a snapshot needs RUNNING (pause, then reinitialize).
    getLifeCycle().transition(LifeCycle.State.STARTING);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  /** The store's position, or the newest snapshot installed first if the store is behind it. */
  private void catchUp() throws IOException {
    ReplicaWriter.Applied applied = node.replicas().applied(partition);
    inStore = applied.index();
    SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
    if (snapshot != null && snapshot.getIndex() > inStore) {
      LOG.info("partition {}: store at {} is behind snapshot {}, installing it", partition, inStore, snapshot.getTermIndex());
      PartitionSnapshot.install(node.replicas(), node.store(), node.placement(), partition, snapshot.getFile().getPath(),
          snapshot.getTerm(), snapshot.getIndex());
      inStore = snapshot.getIndex();
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
   * Ratis pauses the machine before it installs a snapshot from the leader. An installation that
   * follows an unfinished one (the leader sent the snapshot again) finds it paused already: a second
   * transition would throw, fail that installation too, and leave the follower behind for good.
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

  /** After Ratis installed a snapshot from the leader: the store takes it. */
  @Override
  public void reinitialize() throws IOException {
    storage.loadLatestSnapshot();
    SingleFileSnapshotInfo snapshot = storage.getLatestSnapshot();
    if (snapshot != null) {
      LOG.info("partition {}: installing snapshot {} from the leader", partition, snapshot.getTermIndex());
      PartitionSnapshot.install(node.replicas(), node.store(), node.placement(), partition, snapshot.getFile().getPath(),
          snapshot.getTerm(), snapshot.getIndex());
      inStore = snapshot.getIndex();
      setLastAppliedTermIndex(snapshot.getTermIndex());
    }
    getLifeCycle().transition(LifeCycle.State.STARTING);
    getLifeCycle().transition(LifeCycle.State.RUNNING);
  }

  @Override
  public CompletableFuture<Message> applyTransaction(TransactionContext transaction) {
    LogEntryProto entry = transaction.getLogEntry();
    long index = entry.getIndex();
    if (index > inStore) {
      Entry decoded = Entry.decode(entry.getStateMachineLogEntry().getLogData().toByteArray());
      List<ReplicaWriter.Outcome> outcomes = node.replicas().apply(partition, entry.getTerm(), index, decoded.writes()).join();
      inStore = index;
      if (decoded.origin().equals(node.origin())) {
        node.applied(partition, decoded.id(), outcomes);
      }
    }
    updateLastAppliedTermIndex(entry.getTerm(), index);
    return CompletableFuture.completedFuture(Message.EMPTY);
  }

  /**
   * Runs on the updater thread, so the store holds exactly the applied entries of this partition.
   * While the replay at start is still below what the store holds, there is no consistent snapshot
   * to take: it is skipped.
   */
  @Override
  public long takeSnapshot() throws IOException {
    TermIndex applied = getLastAppliedTermIndex();
    if (applied == null || applied.getIndex() <= 0 || applied.getIndex() < inStore) {
      return RaftLog.INVALID_LOG_INDEX;
    }
    File file = storage.getSnapshotFile(applied.getTerm(), applied.getIndex());
    PartitionSnapshot.write(node.store(), node.placement(), partition, file.toPath());
    storage.updateLatestSnapshot(new SingleFileSnapshotInfo(
        new FileInfo(file.toPath(), MD5FileUtil.computeAndSaveMd5ForFile(file)), applied));
    return applied.getIndex();
  }

  @Override
  public void notifyLeaderChanged(RaftGroupMemberId groupMemberId, RaftPeerId newLeaderId) {
    node.leaderChanged();
  }
}
