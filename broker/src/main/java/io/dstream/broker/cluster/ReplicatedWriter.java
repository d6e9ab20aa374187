package io.dstream.broker.cluster;

import io.dstream.broker.store.BatchWriter;
import io.dstream.broker.store.SubjectWrites;
import io.dstream.broker.store.WriteBatch;
import io.dstream.broker.stream.StreamError;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.TransferLeadershipRequest;
import org.apache.ratis.protocol.exceptions.LeaderSteppingDownException;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.thirdparty.com.google.protobuf.ByteString;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The actors' {@link BatchWriter} in cluster mode: the batches of a partition's actors on its leader
 * become entries of the partition's Raft log, several batches per entry (a group commit), a few
 * entries in flight per partition. A batch completes when its entry is applied on this node, the
 * leader, which Raft does only once the entry is committed: written and forced to disk on a
 * majority of the partition's replicas. So an acknowledgement means exactly that.
 *
 * <p>An entry that does not commit (this node lost the leadership, or the quorum) fails its batches:
 * their actors rewind. If such an entry is committed after all, by the next leader, its writes are in
 * the store and its clients got an error: the ambiguous outcome every replicated log has, which a
 * dedup key ({@code Nats-Msg-Id}, {@code cMsgId}) makes safe to retry.
 *
 * <p>Bounds: per partition at most {@code queueCapacity} batches wait (beyond, {@link #submit}
 * refuses and the actor answers "overloaded"), at most {@link #ENTRIES_IN_FLIGHT} entries are
 * proposed and not yet applied, and an entry holds up to the group-commit policy's messages and
 * bytes. Thread-safe: actors submit from their contexts, Ratis completes from its threads.
 */
final class ReplicatedWriter implements BatchWriter {

  /** Entries of one partition proposed and not yet answered; more batches wait and join the next entry. */
  static final int ENTRIES_IN_FLIGHT = 4;
  /** A bound of what {@link Entry}'s encoding adds per write (kind, numbers, lengths) and per batch (its subject). */
  private static final int WRITE_FRAMING = 40;
  private static final int BATCH_FRAMING = 1024;
  private static final Logger LOG = LoggerFactory.getLogger(ReplicatedWriter.class);

  private final class PartitionQueue {
    final int partition;
    final ArrayDeque<WriteBatch> waiting = new ArrayDeque<>();
    int inFlight;
    /** A run of {@link #proposeWaiting} is queued or running. */
    boolean proposing;
    /** When Raft began to refuse this partition's entries as "stepping down" (System.nanoTime), or 0. */
    long steppingDownSince;

    PartitionQueue(int partition) {
      this.partition = partition;
    }
  }

  /** This run's proposer id ({@link PartitionMachine.Node#origin}). */
  private final String origin;
  private final Placement placement;
  private final Leadership leadership;
  private final int entryMessages;
  private final int entryBytes;
  private final int queueCapacity;
  private final long stuckStepDownNanos;
  private final PartitionQueue[] queues;
  private final Map<Long, List<WriteBatch>> proposed = new ConcurrentHashMap<>();
  private final AtomicLong ids = new AtomicLong();
  /**
   * The one thread that hands entries to Ratis. Ratis's submit runs on a Ratis thread and waits for
   * it, for seconds when the division is busy (seen after a SIGCONT): an actor's event loop must not.
   */
  private final ExecutorService proposer = Executors.newSingleThreadExecutor(task -> {
    Thread thread = new Thread(task, "dstream-raft-proposer");
    thread.setDaemon(true);
    return thread;
  });
  private final ClientId clientId = ClientId.randomId();
  private volatile RaftServer server;

  /**
   * {@code stuckStepDown}: how long Raft may refuse a partition's entries because its leader is
   * handing the leadership over before the handover counts as stuck ({@link #answered}).
   */
  ReplicatedWriter(String origin, Placement placement, Leadership leadership, int entryMessages, int entryBytes,
                   int queueCapacity, Duration stuckStepDown) {
    this.origin = origin;
    this.stuckStepDownNanos = stuckStepDown.toNanos();
    this.placement = placement;
    this.leadership = leadership;
    this.entryMessages = entryMessages;
    this.entryBytes = entryBytes;
    this.queueCapacity = queueCapacity;
    this.queues = new PartitionQueue[placement.partitions()];
    for (int p = 0; p < queues.length; p++) {
      queues[p] = new PartitionQueue(p);
    }
  }

  void serve(RaftServer raft) {
    this.server = raft;
  }

  @Override
  public boolean submit(WriteBatch batch) {
    if (leadership.term(batch.subject()) < 0) {
      fail(List.of(batch), leadership.notOwned(batch.subject()));
      return true;
    }
    long encoded = encoded(batch);
    if (encoded > entryBytes) {
      fail(List.of(batch), StreamError.tooLarge("cluster: a write of " + encoded + " bytes to '" + batch.subject()
          + "' does not fit one Raft entry (DSTREAM_CLUSTER_MAX_ENTRY_BYTES " + entryBytes + "); nothing stored"));
      return true;
    }
    PartitionQueue queue = queues[placement.partitionOf(batch.subject())];
    synchronized (queue) {
      if (queue.waiting.size() >= queueCapacity) {
        return false;
      }
      queue.waiting.add(batch);
      scheduleProposals(queue);
    }
    return true;
  }

  /** With the queue's lock: unless it is on its way, a run of {@link #proposeWaiting} on the proposer thread. */
  private void scheduleProposals(PartitionQueue queue) {
    if (!queue.proposing && !queue.waiting.isEmpty() && queue.inFlight < ENTRIES_IN_FLIGHT) {
      try {
        proposer.execute(() -> proposeWaiting(queue));
        queue.proposing = true;
      } catch (RejectedExecutionException closed) {
        failWaiting(queue, "cluster: this node is shutting down; nothing acknowledged, retry");
      }
    }
  }

  /**
   * On the proposer thread: the waiting batches become entries while entries may be in flight. One
   * run per partition at a time, so a partition's entries reach its log in the order of their batches.
   */
  private void proposeWaiting(PartitionQueue queue) {
    while (true) {
      List<WriteBatch> batches;
      long id;
      synchronized (queue) {
        if (queue.waiting.isEmpty() || queue.inFlight >= ENTRIES_IN_FLIGHT) {
          queue.proposing = false;
          return;
        }
        batches = nextEntry(queue);
        id = ids.incrementAndGet();
        proposed.put(id, batches);
        queue.inFlight++;
      }
      propose(queue, id, batches);
    }
  }

  /** With the queue's lock: the waiting batches, up to the entry limits, that make one entry. */
  private List<WriteBatch> nextEntry(PartitionQueue queue) {
    List<WriteBatch> batches = new ArrayList<>();
    int messages = 0;
    long bytes = 0;
    while (!queue.waiting.isEmpty() && (batches.isEmpty() || messages < entryMessages
        && bytes + encoded(queue.waiting.peek()) <= entryBytes)) {
      WriteBatch batch = queue.waiting.poll();
      batches.add(batch);
      messages += batch.writes().size();
      bytes += encoded(batch);
    }
    return batches;
  }

  /** Proposes the entry; Ratis's submit waits for a thread of its own, so never call this on an event loop. */
  private void propose(PartitionQueue queue, long id, List<WriteBatch> batches) {
    List<SubjectWrites> writes = new ArrayList<>(batches.size());
    batches.forEach(batch -> writes.add(new SubjectWrites(batch.subject(), batch.writes())));
    submit(queue.partition, id, writes).whenComplete((answer, failure) -> answered(queue, id, answer, failure));
  }

  /** Submits one entry of {@code writes} to the partition's Raft division; proposer thread only. */
  private CompletableFuture<RaftClientReply> submit(int partition, long id, List<SubjectWrites> writes) {
    byte[] entry = new Entry(origin, id, writes).encode();
    RaftClientRequest request = RaftClientRequest.newBuilder().setClientId(clientId).setServerId(server.getId())
        .setGroupId(placement.groupId(partition)).setCallId(id)
        .setMessage(Message.valueOf(ByteString.copyFrom(entry))).setType(RaftClientRequest.writeRequestType()).build();
    try {
      return server.submitClientRequestAsync(request);
    } catch (IOException | RuntimeException e) {
      // The server is closing (or refused the call): the entry fails, and the proposer goes on.
      return CompletableFuture.failedFuture(e);
    }
  }

  /**
   * An entry without writes in a partition this node leads, for a voter that joined it empty and is
   * behind ({@link Admission}), proposed from the proposer thread like the actors' entries and its
   * answer watched the same way; completes with the entry's log index once committed, else fails.
   * Applied here, it completes no batch: none was proposed under its id.
   */
  CompletableFuture<Long> proposeEmpty(int partition) {
    CompletableFuture<Long> done = new CompletableFuture<>();
    try {
      proposer.execute(() -> submit(partition, ids.incrementAndGet(), List.of()).whenComplete((answer, failure) -> {
        watch(partition, answer);
        if (failure != null) {
          done.completeExceptionally(failure);
        } else if (!answer.isSuccess()) {
          done.completeExceptionally(new IOException("partition " + partition + " did not commit an empty entry: "
              + answer.getException()));
        } else {
          done.complete(answer.getLogIndex());
        }
      }));
    } catch (RejectedExecutionException closed) {
      done.completeExceptionally(new IOException("this node is shutting down"));
    }
    return done;
  }

  /** Watches an answer to an entry this node proposed to {@code partition} for the stuck handover described at {@link #answered}. */
  private void watch(int partition, RaftClientReply answer) {
    PartitionQueue queue = queues[partition];
    boolean handover = answer != null && answer.getException() instanceof LeaderSteppingDownException;
    long now = System.nanoTime();
    boolean stuck = false;
    synchronized (queue) {
      if (!handover) {
        queue.steppingDownSince = 0;
      } else if (queue.steppingDownSince == 0) {
        queue.steppingDownSince = now;
      } else if (now - queue.steppingDownSince > stuckStepDownNanos) {
        queue.steppingDownSince = 0;
        stuck = true;
      }
    }
    if (stuck) {
      try {
        proposer.execute(() -> stepDown(partition));
      } catch (RejectedExecutionException closed) {
        // the node is shutting down: its leadership ends anyway
      }
    }
  }

  /** Asks this node's Raft division of the partition to give up its leadership (a transfer to nobody). */
  private void stepDown(int partition) {
    LOG.warn("cluster: partition {} has refused writes as \"stepping down\" for over {} ms: its leader steps down",
        partition, TimeUnit.NANOSECONDS.toMillis(stuckStepDownNanos));
    TransferLeadershipRequest request = new TransferLeadershipRequest(clientId, server.getId(),
        placement.groupId(partition), ids.incrementAndGet(), null, TimeUnit.NANOSECONDS.toMillis(stuckStepDownNanos));
    try {
      server.transferLeadershipAsync(request).whenComplete((reply, failure) -> {
        if (failure != null || !reply.isSuccess()) {
          LOG.warn("cluster: partition {}: the step-down failed: {}", partition,
              failure != null ? failure.toString() : String.valueOf(reply.getException()));
        }
      });
    } catch (IOException e) {
      LOG.warn("cluster: partition {}: the step-down failed: {}", partition, e.toString());
    }
  }

  private static long encoded(WriteBatch batch) {
    return (long) batch.bytes() + (long) WRITE_FRAMING * batch.writes().size() + BATCH_FRAMING;
  }

  /**
   * Also watches for a leader stuck in a handover. Ratis 3.2.2 hands a partition's leadership to its
   * preferred (higher priority) replica once that replica has the whole log, and refuses entries
   * meanwhile ({@link LeaderSteppingDownException}) for at most an election timeout. But when its
   * request to the replica fails at once (the replica's process just died), Ratis never clears the
   * handover: the leader keeps its leadership and refuses every entry until some election. Seen in
   * the cluster suite, several partitions refused writes for minutes. So a partition refused that way
   * for longer than {@code stuckStepDown} is made to step down, and the election that follows clears it.
   */
  private void answered(PartitionQueue queue, long id, RaftClientReply answer, Throwable failure) {
    watch(queue.partition, answer);
    List<WriteBatch> unapplied = proposed.remove(id);
    if (unapplied != null) {
      String why = failure != null ? failure.toString()
          : answer.isSuccess() ? "committed but not applied here" : String.valueOf(answer.getException());
      LOG.debug("partition {}: entry {} not applied here: {}", queue.partition, id, why);
      fail(unapplied, StreamError.of(StreamError.Kind.UNAVAILABLE, "not_leader", "cluster: partition "
          + queue.partition + " did not commit the write (" + why + "); nothing acknowledged, retry"));
    }
    synchronized (queue) {
      queue.inFlight--;
      scheduleProposals(queue);
    }
  }

  /** On the partition's apply thread: an entry this node proposed was applied; its batches complete. */
  void applied(int partition, long id, List<ReplicaWriter.Outcome> outcomes) {
    List<WriteBatch> batches = proposed.remove(id);
    if (batches == null) {
      return;
    }
    for (int i = 0; i < batches.size(); i++) {
      WriteBatch batch = batches.get(i);
      ReplicaWriter.Outcome outcome = outcomes.get(i);
      if (outcome.refusal() != null) {
        StreamError refused = StreamError.of(StreamError.Kind.UNAVAILABLE, "not_leader", "cluster: partition "
            + partition + " refused the write: " + outcome.refusal() + "; nothing stored, retry");
        batch.context().runOnContext(v -> batch.onDone().accept(null, refused));
      } else {
        batch.context().runOnContext(v -> batch.onDone().accept(outcome.record(), null));
      }
    }
  }

  /** This node no longer leads the partition: the batches still waiting fail. */
  void lost(int partition) {
    PartitionQueue queue = queues[partition];
    synchronized (queue) {
      failWaiting(queue, "cluster: this node stopped leading partition " + partition + "; nothing acknowledged, retry");
    }
  }

  /** Stops proposing: the batches still waiting fail (those in flight fail as the Raft server closes). */
  void close() {
    proposer.shutdownNow();
    for (PartitionQueue queue : queues) {
      synchronized (queue) {
        failWaiting(queue, "cluster: this node is shutting down; nothing acknowledged, retry");
      }
    }
  }

  /** With the queue's lock. */
  private static void failWaiting(PartitionQueue queue, String why) {
    if (!queue.waiting.isEmpty()) {
      fail(new ArrayList<>(queue.waiting), StreamError.of(StreamError.Kind.UNAVAILABLE, "not_leader", why));
      queue.waiting.clear();
    }
  }

  private static void fail(List<WriteBatch> batches, StreamError failure) {
    for (WriteBatch batch : batches) {
      batch.context().runOnContext(v -> batch.onDone().accept(null, failure));
    }
  }
}
