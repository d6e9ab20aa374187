package io.dstream.broker.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A replica that joined a partition's group empty (a new node, or one whose disk was wiped) asks the
 * partition's leader for an empty entry. Ratis 3.2.2's leader never moves a follower's next index
 * below the index that follower matched before, unless the append the follower refused carried
 * entries: a wiped follower is sent heartbeats it refuses for as long as the partition gets no new
 * entry (docs/cluster.md). An empty entry is such an append; applied, it records only the
 * partition's position. On a new cluster every node asks for every partition once: a few empty
 * entries.
 */
final class Rejoin {

  private static final Logger LOG = LoggerFactory.getLogger(Rejoin.class);
  private static final long RETRY_MS = 500;
  /** How long a node keeps asking (the partition may have no leader, or a leader that does not know it yet). */
  private static final long ASK_FOR_MS = 120_000;

  private Rejoin() {
  }

  private static String address(String node) {
    return "dstream.node." + node + ".rejoin";
  }

  /** Answers the requests of the other nodes: an empty entry in a partition this node leads, once committed. */
  static void serve(Vertx vertx, String self, ReplicatedWriter writer) {
    vertx.eventBus().<Integer>consumer(address(self), request ->
        Future.fromCompletionStage(writer.proposeEmpty(request.body()), vertx.getOrCreateContext()).onComplete(ar -> {
          if (ar.succeeded()) {
            request.reply(ar.result());
          } else {
            request.fail(1, String.valueOf(ar.cause().getMessage()));
          }
        }));
  }

  /** Asks each partition's leader for an empty entry, again every {@link #RETRY_MS} ms until it answers. */
  static void ask(Vertx vertx, Leadership leadership, Set<Integer> partitions, long timeoutMs) {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ASK_FOR_MS);
    for (int partition : partitions) {
      attempt(vertx, leadership, partition, timeoutMs, deadline);
    }
  }

  private static void attempt(Vertx vertx, Leadership leadership, int partition, long timeoutMs, long deadline) {
    if (System.nanoTime() > deadline) {
      LOG.warn("partition {}: no leader took this replica's empty entry in {} ms; the partition's next write "
          + "brings the replica up to date", partition, ASK_FOR_MS);
      return;
    }
    String leader = leadership.leaderOf(partition);
    if (leader != null && leader.equals(leadership.nodeId())) {
      // Elected, so its log holds what a majority holds: no leader keeps an old position for it.
      LOG.debug("partition {}: joined empty and leads it; no empty entry needed", partition);
      return;
    }
    if (leader == null) {
      vertx.setTimer(RETRY_MS, id -> attempt(vertx, leadership, partition, timeoutMs, deadline));
      return;
    }
    vertx.eventBus().<Long>request(address(leader), partition, new DeliveryOptions().setSendTimeout(timeoutMs))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            LOG.info("partition {}: joined empty; its leader {} appended an empty entry at {}", partition, leader,
                ar.result().body());
          } else {
            vertx.setTimer(RETRY_MS, id -> attempt(vertx, leadership, partition, timeoutMs, deadline));
          }
        });
  }
}
