package io.dstream.broker.cluster;

import static io.dstream.broker.cluster.ClusterClients.connect;
import static io.dstream.broker.cluster.ClusterClients.jetStream;
import static io.dstream.broker.cluster.ClusterClients.publishUntilAcked;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import io.dstream.broker.ClusterProcesses;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.api.PublishAck;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A replica whose disk was wiped does not vote before it holds its partitions again
 * (docs/cluster.md, "A wiped node rejoins without a vote"). Two cases, each on its own three nodes:
 * with another replica down, the wiped one is not let back in at all until that one is back; and the
 * case Raft cannot survive otherwise, a wiped replica caught up in part when the leader is lost while
 * the third one lags (the second test, which fails without {@link Admission}).
 */
@Tag("slow")
@Tag("cluster")
@Timeout(value = 6, unit = TimeUnit.MINUTES)
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
class WipedReplicaIT {

  private static final Duration CATCH_UP = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(30);
  /** Three maximum election timeouts of the slowed cluster (10 s). */
  private static final Duration LEADERLESS_SLOW = Duration.ofSeconds(30);
  /** Several maximum election timeouts (1 s): time enough for the two live replicas to elect one, if they could. */
  private static final Duration LEADERLESS = Duration.ofSeconds(6);
  /** Long enough for a wiped voter to catch up and acknowledge (it takes well under a second here). */
  private static final Duration UNACKNOWLEDGED = Duration.ofSeconds(5);

  @TempDir
  Path dir;

  /**
   * One replica down while 40 messages are acknowledged by the other two, the second wiped and
   * restarted: it is not removed from its group (the leader would be left the only voter that
   * answers), so it neither acknowledges nor votes; with the leader killed and the lagging replica
   * back, nobody leads until the old leader is back, and then nothing is lost.
   */
  @Test
  void aWipedReplicaCannotElectALaggingOneAndLosesNothing() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(dir, 3, Map.of("DSTREAM_CLUSTER_PARTITIONS", "4"))) {
      String subject = "wiped.orders";
      AckLedger ledger = new AckLedger(subject);
      String leader = cluster.leaderOf(subject);
      String lagging = cluster.otherThan(leader).get(0);
      String wiped = cluster.otherThan(leader, lagging).get(0);
      publish(cluster, leader, ledger, ids("all-three-", 20));
      cluster.kill9(lagging);
      publish(cluster, leader, ledger, ids("leader-and-wiped-", 40));
      cluster.kill9(wiped);
      cluster.wipe(wiped);
      cluster.restart(wiped);
      // It finds the leader holding the partition, and cannot be removed from its group while the
      // lagging replica is down (the leader would be left the only voter that answers).
      awaitLogLine(cluster, wiped, "no leader has removed this empty replica yet");
      int partition = cluster.partitionOf(subject);
      assertEquals("NONE", PartitionViews.of(cluster, wiped, partition).getString("role"),
          "the wiped replica's part in partition " + partition + " before it was removed from it");
      // Nor does it acknowledge anything meanwhile: with its vote, it would acknowledge as soon as it
      // had caught up, and later elect whoever it then judged current.
      try (Connection nc = connect(cluster.natsUrl(leader), Duration.ofSeconds(2))) {
        JetStream js = jetStream(nc, UNACKNOWLEDGED);
        assertThrows(Exception.class, () -> js.publish(subject, ClusterClients.msgIdHeader("while-wiped"),
            AckLedger.payloadOf("while-wiped")), "a publish acknowledged by the leader and the wiped replica");
      }

      cluster.kill9(leader);
      cluster.restart(lagging);
      assertNobodyLeads(cluster, List.of(lagging, wiped), partition, LEADERLESS);

      cluster.restart(leader);
      // The refused publish may have been committed since: retried with its id, it is stored once.
      publish(cluster, lagging, ledger, List.of("while-wiped"));
      List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, ledger.maxSequence(), CATCH_UP);
      for (Replica replica : replicas) {
        ledger.assertExactlyIn(replica);
        replica.assertSameAs(replicas.get(0));
      }
      awaitVoter(cluster, wiped, partition);
      awaitLogLine(cluster, wiped, "partition " + partition + ": added back and caught up; a voting replica again");
      try (Connection nc = connect(cluster.natsUrl(wiped), Duration.ofSeconds(2))) {
        PublishAck next = publishUntilAcked(jetStream(nc, Duration.ofSeconds(5)), ledger, "after", WAIT);
        assertEquals(replicas.get(0).lastSequence() + 1, next.getSeqno(), "the sequence after the rejoin");
      }
    }
  }

  /**
   * The case itself, which needs a replica caught up only in part at the leader's loss: one replica
   * lags (down while 40 messages are acknowledged), the second is wiped, and both come back over
   * links slowed to 1 Mbit/s, so that both are still catching up from the leader when it is killed,
   * the wiped one further behind. Ratis counts its vote (its log is no longer empty); before
   * Admission it elected the lagging replica, and the acknowledged messages that one lacked were gone
   * (seen by hand, 2026-12-06: 46 of 60 left; this test then fails with the lagging replica leading).
   * Now the wiped replica has no vote until the lagging one holds the change that removed it from the
   * group, and nobody leads until the old leader is back.
   */
  @Test
  void aWipedReplicaCaughtUpInPartCannotElectALaggingOne() throws Exception {
    assumeTrue(LoopbackThrottle.available(), "needs Linux tc as root, to slow two replicas' catch-up");
    // Appends of at most 256 KiB take about 2 s at 1 Mbit/s: elections must wait longer than that.
    try (ClusterProcesses cluster = ClusterProcesses.start(dir, 3, Map.of("DSTREAM_CLUSTER_PARTITIONS", "4",
        "DSTREAM_CLUSTER_ELECTION_TIMEOUT_MIN_MS", "5000", "DSTREAM_CLUSTER_ELECTION_TIMEOUT_MAX_MS", "10000",
        "DSTREAM_CLUSTER_MAX_ENTRY_BYTES", "262144"))) {
      String subject = "partly.orders";
      AckLedger ledger = new AckLedger(subject);
      String leader = cluster.leaderOf(subject);
      String lagging = cluster.otherThan(leader).get(0);
      String wiped = cluster.otherThan(leader, lagging).get(0);
      int partition = cluster.partitionOf(subject);
      publishLarge(cluster, leader, ledger, "all-three-", 20);
      cluster.kill9(lagging);
      publishLarge(cluster, leader, ledger, "leader-and-wiped-", 40);
      long leaderApplied = PartitionViews.of(cluster, leader, partition).getLong("applied");
      cluster.kill9(wiped);
      cluster.wipe(wiped);
      try (LoopbackThrottle slow = LoopbackThrottle.to(List.of(cluster.raftPort(lagging), cluster.raftPort(wiped)),
          "1mbit")) {
        cluster.restart(lagging);
        cluster.restart(wiped);
        long restarted = PartitionViews.of(cluster, lagging, partition).getLong("applied");
        awaitView(cluster, lagging, partition, v -> v.getLong("applied") >= restarted + 5, "catching up");
        JsonObject before = PartitionViews.of(cluster, lagging, partition);
        assertTrue(before.getLong("applied") < leaderApplied, "the lagging replica caught up before the leader's kill "
            + "(the throttle did not hold it back): " + before + ", the leader applied " + leaderApplied);
        cluster.kill9(leader);
        assertNobodyLeads(cluster, List.of(lagging, wiped), partition, LEADERLESS_SLOW);
      }
      cluster.restart(leader);
      List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, ledger.maxSequence(), CATCH_UP);
      for (Replica replica : replicas) {
        ledger.assertExactlyIn(replica);
        replica.assertSameAs(replicas.get(0));
      }
      awaitVoter(cluster, wiped, partition);
    }
  }

  /** Publishes {@code count} messages of about 100 KB (a Raft entry each) through {@code node}. */
  private static void publishLarge(ClusterProcesses cluster, String node, AckLedger ledger, String prefix, int count)
      throws Exception {
    try (Connection nc = connect(cluster.natsUrl(node), Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, WAIT);
      for (int i = 0; i < count; i++) {
        String id = prefix + i;
        byte[] small = AckLedger.payloadOf(id);
        byte[] payload = Arrays.copyOf(small, small.length + 100_000);
        long sent = System.nanoTime();
        ledger.record(id, payload, js.publish(ledger.subject(), ClusterClients.msgIdHeader(id), payload), sent);
      }
    }
  }

  private static void awaitView(ClusterProcesses cluster, String node, int partition,
      Predicate<JsonObject> done, String what) throws Exception {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    JsonObject view;
    do {
      view = PartitionViews.of(cluster, node, partition);
      if (done.test(view)) {
        return;
      }
      Thread.sleep(200);
    } while (System.nanoTime() < deadline);
    fail(node + " not " + what + " on partition " + partition + " within " + CATCH_UP + ": " + view);
  }

  private static void publish(ClusterProcesses cluster, String node, AckLedger ledger, List<String> msgIds)
      throws Exception {
    try (Connection nc = connect(cluster.natsUrl(node), Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (String msgId : msgIds) {
        publishUntilAcked(js, ledger, msgId, WAIT);
      }
    }
  }

  private static List<String> ids(String prefix, int count) {
    return IntStream.range(0, count).mapToObj(i -> prefix + i).toList();
  }

  /** For {@code time}, polled: none of {@code nodes} leads the partition (the only replica holding all of it is down). */
  private static void assertNobodyLeads(ClusterProcesses cluster, List<String> nodes, int partition, Duration time)
      throws Exception {
    long until = System.nanoTime() + time.toNanos();
    while (System.nanoTime() < until) {
      for (String node : nodes) {
        JsonObject view = PartitionViews.of(cluster, node, partition);
        assertTrue(!"LEADER".equals(view.getString("role")), node + " leads partition " + partition
            + " while the only replica holding all its acknowledged messages is down: " + view);
      }
      Thread.sleep(250);
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

  /** Polls until the wiped node is a voting replica of the partition again. */
  private static void awaitVoter(ClusterProcesses cluster, String node, int partition) throws Exception {
    awaitView(cluster, node, partition, view -> List.of("FOLLOWER", "LEADER").contains(view.getString("role")),
        "a voter again");
  }
}
