package io.dstream.broker.cluster;

import static io.dstream.broker.cluster.ClusterClients.connect;
import static io.dstream.broker.cluster.ClusterClients.jetStream;
import static io.dstream.broker.cluster.ClusterClients.publishUntilAcked;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dstream.broker.ClusterProcesses;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.api.PublishAck;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica whose disk was wiped does not vote before it holds its partitions again
 * (docs/cluster.md, "A wiped node rejoins without a vote"). The case Raft cannot survive otherwise:
 * one replica lags (down), entries are acknowledged by the leader and the second replica, the second
 * replica is wiped and restarted, then the leader is lost and the lagging one comes back. Voting
 * while it has caught up only in part, the wiped replica could elect the lagging one, and the
 * entries that one lacks would be gone (Ratis ignores only the votes of an empty log). Here the
 * wiped replica neither acknowledges nor votes until the lagging one is back, so the partition takes
 * no writes and has no leader until the old leader is back, and then it loses nothing.
 */
@Tag("slow")
@Tag("cluster")
@Timeout(value = 4, unit = TimeUnit.MINUTES)
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
class WipedReplicaIT {

  private static final Duration CATCH_UP = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** Several maximum election timeouts (1 s): time enough for the two live replicas to elect one, if they could. */
  private static final Duration LEADERLESS = Duration.ofSeconds(6);
  /** Long enough for a wiped voter to catch up and acknowledge (it takes well under a second here). */
  private static final Duration UNACKNOWLEDGED = Duration.ofSeconds(5);

  @TempDir
  Path dir;

  @Test
  void aWipedReplicaCannotElectALaggingOneAndLosesNothing() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(dir, 3, Map.of("DSTREAM_CLUSTER_PARTITIONS", "4"))) {
      String subject = "wiped.orders";
      AckLedger ledger = new AckLedger(subject);
      String leader = cluster.leaderOf(subject);
      String lagging = cluster.otherThan(leader).get(0);
      String wiped = cluster.otherThan(leader, lagging).get(0);
      publish(cluster, leader, ledger, "all-three-", 20);
      cluster.kill9(lagging);
      publish(cluster, leader, ledger, "leader-and-wiped-", 40);
      cluster.kill9(wiped);
      cluster.wipe(wiped);
      cluster.restart(wiped);
      // It finds the leader holding the partition, and cannot be made a listener while the lagging
      // replica is down (the leader would be left the only voter that answers).
      awaitLogLine(cluster, wiped, "no leader made this empty replica a listener yet");
      int partition = cluster.partitionOf(subject);
      assertEquals("NONE", PartitionViews.of(cluster, wiped, partition).getString("role"),
          "the wiped replica's part in partition " + partition + " before it was made a listener");
      // Nor does it acknowledge anything meanwhile: with its vote, it would acknowledge as soon as it
      // had caught up, and later elect whoever it then judged current.
      try (Connection nc = connect(cluster.natsUrl(leader), Duration.ofSeconds(2))) {
        JetStream js = jetStream(nc, UNACKNOWLEDGED);
        assertThrows(Exception.class, () -> js.publish(subject, ClusterClients.msgIdHeader("while-wiped"),
            AckLedger.payloadOf("while-wiped")), "a publish acknowledged by the leader and the wiped replica");
      }

      cluster.kill9(leader);
      cluster.restart(lagging);
      long until = System.nanoTime() + LEADERLESS.toNanos();
      while (System.nanoTime() < until) {
        for (String node : List.of(lagging, wiped)) {
          JsonObject view = PartitionViews.of(cluster, node, partition);
          assertTrue(!"LEADER".equals(view.getString("role")), node + " leads partition " + partition
              + " without the only replica holding its last " + 40 + " acknowledged messages: " + view);
        }
        Thread.sleep(250);
      }

      cluster.restart(leader);
      // The refused publish may have been committed since: retried with its id, it is stored once.
      publish(cluster, lagging, ledger, "while-wiped", 1);
      List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, ledger.maxSequence(), CATCH_UP);
      for (Replica replica : replicas) {
        ledger.assertExactlyIn(replica);
        replica.assertSameAs(replicas.get(0));
      }
      awaitVoter(cluster, wiped, partition);
      awaitLogLine(cluster, wiped, "partition " + partition + ": caught up; a voting replica again");
      try (Connection nc = connect(cluster.natsUrl(wiped), Duration.ofSeconds(2))) {
        PublishAck next = publishUntilAcked(jetStream(nc, Duration.ofSeconds(5)), ledger, "after", WAIT);
        assertEquals(replicas.get(0).lastSequence() + 1, next.getSeqno(), "the sequence after the rejoin");
      }
    }
  }

  private static void publish(ClusterProcesses cluster, String node, AckLedger ledger, String prefix, int count)
      throws Exception {
    try (Connection nc = connect(cluster.natsUrl(node), Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (int i = 0; i < count; i++) {
        publishUntilAcked(js, ledger, count == 1 ? prefix : prefix + i, WAIT);
      }
    }
  }

  private static void awaitLogLine(ClusterProcesses cluster, String node, String text) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (cluster.tail(node, 10_000).stream().noneMatch(line -> line.contains(text))) {
      if (System.nanoTime() > deadline) {
        fail(node + " did not log \"" + text + "\" within " + WAIT + ":\n" + String.join("\n", cluster.tail(node, 40)));
      }
      Thread.sleep(100);
    }
  }

  /** Polls until the wiped node is a voting replica of the partition (past its time as a listener). */
  private static void awaitVoter(ClusterProcesses cluster, String node, int partition) throws Exception {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    JsonObject view;
    do {
      view = PartitionViews.of(cluster, node, partition);
      if ("FOLLOWER".equals(view.getString("role")) || "LEADER".equals(view.getString("role"))) {
        return;
      }
      Thread.sleep(250);
    } while (System.nanoTime() < deadline);
    fail(node + " did not become a voter of partition " + partition + " again within " + CATCH_UP + ": " + view);
  }
}
