package io.dstream.broker.cluster;

import io.dstream.broker.ClusterProcesses;
import io.dstream.broker.archive.ArchiveKeys;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Subscription;
import io.nats.client.api.PublishAck;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.api.io.TempDir;

import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static io.dstream.broker.cluster.ClusterClients.await;
import static io.dstream.broker.cluster.ClusterClients.firstAckAfterMs;
import static io.dstream.broker.cluster.ClusterClients.jetStream;
import static io.dstream.broker.cluster.ClusterClients.msSince;
import static io.dstream.broker.cluster.ClusterClients.msgIdHeader;
import static io.dstream.broker.cluster.ClusterClients.publishUntilAcked;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Cluster mode (docs/cluster.md) with three brokers as child JVMs on loopback, R3, one shared S3
 * server: the six claims of issue 17. One cluster for the class; each test starts from three live
 * nodes (restarting what the previous one killed or stopped) and uses subjects of its own. Only
 * claims are asserted; durations are printed (the 10 s failover bound is the issue's own claim).
 */
@Tag("slow")
@Tag("cluster")
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 4, unit = TimeUnit.MINUTES)
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
class ClusterIT {

  /** Small, so that the leader purges its log and case 3's wiped follower has to copy the partition. */
  private static final int SNAPSHOT_ENTRIES = 50;
  private static final Duration CATCH_UP = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final long FAILOVER_BOUND_MS = 10_000;
  private static final long REFUSAL_BOUND_MS = 15_000;

  @TempDir
  static Path dir;
  private static ClusterProcesses cluster;

  @RegisterExtension
  static final TestWatcher NODE_LOGS_ON_FAILURE = new TestWatcher() {
    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
      if (cluster != null) {
        System.out.println(context.getDisplayName() + " failed; threads of the live nodes in " + cluster.dumpThreads()
            + "; the nodes:\n" + cluster.describe(50));
      }
    }
  };

  @BeforeAll
  static void startCluster() throws Exception {
    cluster = ClusterProcesses.start(dir, 3, Map.of(
        "DSTREAM_CLUSTER_PARTITIONS", "8",
        "DSTREAM_CLUSTER_SNAPSHOT_ENTRIES", Integer.toString(SNAPSHOT_ENTRIES),
        // Small segments: a snapshot lets the leader delete the log behind it, so case 3's wiped node needs a copy.
        "DSTREAM_CLUSTER_LOG_SEGMENT_BYTES", "16384", "DSTREAM_CLUSTER_MAX_ENTRY_BYTES", "1048576"));
  }

  @AfterAll
  static void stopCluster() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @BeforeEach
  void everyNodeLive() throws Exception {
    cluster.ensureAllLive();
  }

  /** Case 1: any node takes a publish for any subject, any node delivers it. */
  @Test
  @Order(1)
  void aPublishOnOneNodeToASubjectLedByAnotherIsAcknowledgedInOrderAndDeliveredOnTheThird() throws Exception {
    String subject = "c1.orders-0";
    String leader = cluster.leaderOf(subject);
    String publisherNode = cluster.otherThan(leader).get(0);
    String subscriberNode = cluster.otherThan(leader).get(1);
    System.out.printf("case 1: %s led by %s, published on %s, subscribed on %s%n", subject, leader, publisherNode,
        subscriberNode);
    int count = 200;
    AckLedger ledger = new AckLedger(subject);
    try (Connection publisherConnection = connect(publisherNode, Duration.ofSeconds(30));
         Connection subscriberConnection = connect(subscriberNode, Duration.ofSeconds(30))) {
      Subscription subscription = subscriberConnection.subscribe("c1.>");
      subscriberConnection.flush(WAIT);
      JetStream js = jetStream(publisherConnection, Duration.ofSeconds(10));
      awaitDeliveryThrough(subscription, js, subjectInPartitionOf(subject, "c1.warm-"));

      List<CompletableFuture<PublishAck>> acks = new ArrayList<>();
      List<Long> sent = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        sent.add(System.nanoTime());
        acks.add(js.publishAsync(subject, msgIdHeader("c1-" + i), AckLedger.payloadOf("c1-" + i)));
      }
      for (int i = 0; i < count; i++) {
        PublishAck ack = acks.get(i).get(WAIT.toSeconds(), TimeUnit.SECONDS);
        assertEquals(i + 1, ack.getSeqno(), "PubAck of publish " + (i + 1) + " through " + publisherNode);
        ledger.record("c1-" + i, AckLedger.payloadOf("c1-" + i), ack, sent.get(i));
      }

      long deadline = System.nanoTime() + WAIT.toNanos();
      for (int i = 0; i < count; i++) {
        Message delivered = nextOn(subscription, subject, deadline);
        assertNotNull(delivered, "delivery " + (i + 1) + " of " + count + " never reached the subscriber on " + subscriberNode);
        assertArrayEquals(AckLedger.payloadOf("c1-" + i), delivered.getData(),
            "delivery " + (i + 1) + " on " + subscriberNode + " (out of order or other bytes)");
      }
      assertNull(nextOn(subscription, subject, System.nanoTime() + TimeUnit.SECONDS.toNanos(1)),
          "a delivery beyond the " + count + " messages published");
    }
    List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, count, CATCH_UP);
    for (Replica replica : replicas) {
      ledger.assertExactlyIn(replica);
      replica.assertSameAs(replicas.get(0));
    }
    // An acked subscription on the third node too: protocol v1, relayed to the leader, pushes in order
    // and gets the next ones only as it acks (the leader's window).
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try (io.dstream.broker.ws.V1TestClient v1 = io.dstream.broker.ws.V1TestClient.connect(vertx,
        cluster.httpPort(subscriberNode), subject, ClusterProcesses.API_KEY)) {
      v1.request(new io.vertx.core.json.JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      for (int i = 1; i <= count; i++) {
        io.vertx.core.json.JsonObject push = v1.nextPush();
        assertEquals(i, push.getLong("sequence"), "v1 push " + i + " on " + subscriberNode);
        v1.ack(push);
      }
    } finally {
      vertx.close().await();
    }
    // What went to the leader shows in the forwarding nodes' metrics.
    assertTrue(forwarded(publisherNode, "publish") >= count, "publishes forwarded by " + publisherNode);
    assertTrue(forwarded(subscriberNode, "websocket") >= 1, "v1 sockets relayed by " + subscriberNode);
  }

  /** {@code dstream_cluster_forwarded_total} of {@code kind} in the node's {@code /metrics}. */
  private static double forwarded(String node, String kind) throws Exception {
    return metric(node, "dstream_cluster_forwarded_total{kind=\"" + kind + "\"");
  }

  /** The sum of the node's {@code /metrics} samples whose line starts with {@code prefix}. */
  private static double metric(String node, String prefix) throws Exception {
    return cluster.get(node, "/metrics").body().lines().filter(line -> line.startsWith(prefix))
        .mapToDouble(line -> Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1))).sum();
  }

  /** Waits until the node's gauge {@code name} satisfies {@code check}. */
  private static void awaitGauge(String node, String name, java.util.function.DoublePredicate check, String what)
      throws Exception {
    long deadline = System.nanoTime() + CATCH_UP.toNanos();
    double value;
    while (!check.test(value = metric(node, name + " "))) {
      assertTrue(System.nanoTime() < deadline, name + " on " + node + " is " + value + ", not " + what);
      Thread.sleep(200);
    }
  }

  /** Case 2: kill -9 of the partition leader under pipelined publishing through another node. */
  @Test
  @Order(2)
  void killingThePartitionLeaderUnderPipelinedPublishingLosesNoAcknowledgedMessage() throws Exception {
    String subject = "c2.orders";
    String leader = cluster.leaderOf(subject);
    List<String> survivors = cluster.otherThan(leader);
    String via = survivors.get(0);
    AckLedger ledger = new AckLedger(subject);
    long killed;
    long failoverMs;
    try (Connection nc = connect(via, Duration.ofSeconds(2));
         PipelinedPublisher publisher = new PipelinedPublisher(jetStream(nc, WAIT), ledger, "c2", 100)) {
      await(() -> ledger.size() >= 300, CATCH_UP, "300 acknowledged publishes before the kill");
      killed = System.nanoTime();
      cluster.kill9(leader);
      PublishAck probe = publishUntilAcked(jetStream(nc, Duration.ofSeconds(1)), ledger, "c2-probe", Duration.ofSeconds(60));
      failoverMs = firstAckAfterMs(ledger, killed);
      System.out.printf("case 2: %s led by %s, published through %s; kill -9 at %d acknowledged; writes accepted "
          + "again %d ms after the kill (probe at sequence %d)%n", subject, leader, via, ledger.size(), failoverMs,
          probe.getSeqno());
      long probeAcked = ledger.get("c2-probe").ackedNanos();
      await(() -> ledger.ackedAfter(probeAcked) >= 200, CATCH_UP, "200 pipelined publishes acknowledged after the failover");
      publisher.finish(CATCH_UP);
      System.out.printf("case 2: %d messages acknowledged, %d publishes failed and were retried with their Nats-Msg-Id "
          + "(last failure: %s)%n", ledger.size(), publisher.failures(), publisher.lastFailure());
    }
    assertTrue(failoverMs <= FAILOVER_BOUND_MS, "writes accepted again " + failoverMs + " ms after the leader's kill, over "
        + FAILOVER_BOUND_MS + " ms");
    List<Replica> replicas = Replica.awaitConverged(cluster, survivors, subject, ledger.maxSequence(), CATCH_UP);
    for (Replica replica : replicas) {
      ledger.assertExactlyIn(replica);
    }
    replicas.get(1).assertSameAs(replicas.get(0));
    assertCheckpointedUnderTheLeadersTermOnly(subject);
  }

  /**
   * The subject's checkpoints are fenced by term (docs/cluster.md): its leader writes its manifest
   * under its own term, and once that is in the bucket no older term's manifest is left.
   */
  private static void assertCheckpointedUnderTheLeadersTermOnly(String subject) throws Exception {
    String leader = cluster.leaderOf(subject);
    int partition = cluster.partitionOf(subject);
    long term = cluster.adminGet(leader, "/admin/cluster").getJsonArray("partition_list").getJsonObject(partition)
        .getLong("term");
    String expected = ArchiveKeys.manifest(subject, term);
    List<String> seen = new ArrayList<>();
    await(() -> {
      try {
        seen.clear();
        seen.addAll(cluster.bucketKeys(ArchiveKeys.manifestsPrefix(subject)));
        return seen.equals(List.of(expected));
      } catch (Exception e) {
        return false;
      }
    }, CATCH_UP, "the only manifest of " + subject + " is " + expected + " (bucket: " + seen + ")");
  }

  /** Case 3: a killed follower catches up. */
  @Test
  @Order(3)
  void aKilledFollowerCatchesUp() throws Exception {
    String subject = "c3.orders";
    AckLedger ledger = new AckLedger(subject);
    String leader = cluster.leaderOf(subject);
    String killed = cluster.otherThan(leader).get(0);
    String via = cluster.otherThan(leader, killed).get(0);
    try (Connection nc = connect(via, Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (int i = 0; i < 30; i++) {
        publishUntilAcked(js, ledger, "c3-" + i, WAIT);
      }
      awaitGauge(leader, "dstream_cluster_partitions_under_replicated", v -> v == 0, "0 with every replica up");
      assertTrue(metric(leader, "dstream_cluster_partitions_led ") >= 1, "no partition led by " + leader);
      cluster.kill9(killed);
      // Every partition has a replica on each of the three nodes: those the leader leads lack one now.
      awaitGauge(leader, "dstream_cluster_partitions_under_replicated", v -> v > 0, "above 0 with " + killed + " down");
      try (PipelinedPublisher publisher = new PipelinedPublisher(js, ledger, "c3-while-down", 50)) {
        await(() -> ledger.size() >= 330, CATCH_UP, "300 publishes acknowledged while " + killed + " is down");
        publisher.finish(CATCH_UP);
      }
    }
    cluster.restart(killed);
    long restarted = System.nanoTime();
    List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, ledger.maxSequence(), CATCH_UP);
    awaitGauge(leader, "dstream_cluster_partitions_under_replicated", v -> v == 0, "0 once " + killed + " caught up");
    System.out.printf("case 3: %s (follower of %s) killed, %d messages written meanwhile through %s, caught up %d ms "
        + "after it was ready again%n", killed, leader, ledger.size() - 30, via, msSince(restarted));
    for (Replica replica : replicas) {
      ledger.assertExactlyIn(replica);
      replica.assertSameAs(replicas.get(0));
    }
  }

  /** Case 4: the whole cluster stopped (SIGTERM) and started again keeps everything and goes on. */
  @Test
  @Order(4)
  void theWholeClusterStoppedAndStartedKeepsEverythingAndContinuesTheSequences() throws Exception {
    List<AckLedger> ledgers = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      ledgers.add(new AckLedger("c4.orders-" + i));
    }
    try (Connection nc = connect(cluster.nodeIds().get(0), Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, WAIT);
      List<PipelinedPublisher> publishers = new ArrayList<>();
      try {
        for (AckLedger ledger : ledgers) {
          publishers.add(new PipelinedPublisher(js, ledger, ledger.subject().replace('.', '-'), 20));
        }
        await(() -> ledgers.stream().allMatch(l -> l.size() >= 100), CATCH_UP, "100 acknowledged publishes per subject");
        for (PipelinedPublisher publisher : publishers) {
          publisher.finish(CATCH_UP);
        }
      } finally {
        for (PipelinedPublisher publisher : publishers) {
          publisher.close();
        }
      }
    }
    long stopping = System.nanoTime();
    cluster.stopAll();
    long starting = System.nanoTime();
    cluster.startAllStopped();
    System.out.printf("case 4: the cluster stopped in %d ms and was ready again in %d ms%n",
        (starting - stopping) / 1_000_000, msSince(starting));
    Map<String, Long> lastBefore = new HashMap<>();
    for (AckLedger ledger : ledgers) {
      List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), ledger.subject(), ledger.maxSequence(), CATCH_UP);
      for (Replica replica : replicas) {
        ledger.assertExactlyIn(replica);
        replica.assertSameAs(replicas.get(0));
      }
      lastBefore.put(ledger.subject(), replicas.get(0).lastSequence());
    }
    try (Connection nc = connect(cluster.nodeIds().get(1), Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (AckLedger ledger : ledgers) {
        PublishAck ack = publishUntilAcked(js, ledger, ledger.subject() + "-after-restart", WAIT);
        assertEquals(lastBefore.get(ledger.subject()) + 1, ack.getSeqno(), "the sequence of " + ledger.subject()
            + " after the restart");
      }
    }
  }

  /** Case 5: without a quorum a write fails fast and clearly, durable reads go on, writes resume with the quorum. */
  @Test
  @Order(5)
  void withoutQuorumWritesFailClearlyReadsStillWorkAndWritesResumeWithTheQuorum() throws Exception {
    String subject = "c5.orders";
    String survivor = cluster.leaderOf(subject);
    List<String> stopped = cluster.otherThan(survivor);
    AckLedger ledger = new AckLedger(subject);
    try (Connection nc = connect(survivor, Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (int i = 0; i < 20; i++) {
        publishUntilAcked(js, ledger, "c5-" + i, WAIT);
      }
      for (String node : stopped) {
        cluster.stop(node);
      }
      // Without a majority the survivor's partitions lose their leader (it steps down), as its gauge says.
      awaitGauge(survivor, "dstream_cluster_partitions_without_leader", v -> v > 0, "above 0 without a quorum");

      // The survivor led the partition: it must not acknowledge, nor hang, without a majority.
      JetStream patient = jetStream(nc, Duration.ofSeconds(25));
      long publishing = System.nanoTime();
      JetStreamApiException refused = assertThrows(JetStreamApiException.class, () -> patient.publish(subject,
          msgIdHeader("c5-after"), AckLedger.payloadOf("c5-after")), "a publish without a quorum must get an error PubAck");
      long refusedMs = msSince(publishing);
      System.out.printf("case 5: %s without quorum on %s refused in %d ms: %d/%d %s%n", subject, survivor, refusedMs,
          refused.getErrorCode(), refused.getApiErrorCode(), refused.getErrorDescription());
      assertEquals(503, refused.getErrorCode(), refused.toString());
      assertTrue(refusedMs < REFUSAL_BOUND_MS, "the refusal took " + refusedMs + " ms");

      long posting = System.nanoTime();
      HttpResponse<String> post = cluster.post(survivor, "/stream/c5.records", "{\"records\":[{\"n\":1}]}");
      long postMs = msSince(posting);
      System.out.printf("case 5: records API append without quorum: %d in %d ms, Retry-After %s: %s%n", post.statusCode(),
          postMs, post.headers().firstValue("Retry-After").orElse("none"), post.body());
      assertEquals(503, post.statusCode(), post.body());
      assertTrue(post.headers().firstValue("Retry-After").isPresent(), "503 without Retry-After");
      assertTrue(postMs < REFUSAL_BOUND_MS, "the records API refusal took " + postMs + " ms");

      Replica durable = Replica.read(cluster, survivor, subject);
      ledger.assertExactlyIn(durable);

      cluster.restart(stopped.get(0));
      long quorumBack = System.nanoTime();
      // Same id as the refused publish: had its entry been committed after all, this is its duplicate.
      PublishAck resumed = publishUntilAcked(js, ledger, "c5-after", WAIT);
      System.out.printf("case 5: with %s back, writes resumed %d ms after it was ready (sequence %d, duplicate %b)%n",
          stopped.get(0), msSince(quorumBack), resumed.getSeqno(), resumed.isDuplicate());
      assertEquals(21, resumed.getSeqno(), "the sequence of the first write once the quorum is back");
      awaitGauge(survivor, "dstream_cluster_partitions_without_leader", v -> v == 0, "0 with the quorum back");
    }
    List<Replica> replicas = Replica.awaitConverged(cluster, List.of(survivor, stopped.get(0)), subject, 21, CATCH_UP);
    for (Replica replica : replicas) {
      ledger.assertExactlyIn(replica);
      replica.assertSameAs(replicas.get(0));
    }
  }

  /**
   * Core NATS across nodes (docs/cluster.md): a request from node A reaches a service on node B and
   * its reply comes back, headers kept, also on a requester's very first request; a queue group with
   * a member on B and one on C gets each message once in the whole cluster, ephemeral or durable; a
   * request that no node serves gets "no responders" at once. Before case 6:
   * after its freeze, that node was once still alone in its Hazelcast membership (the others had
   * dropped it) for the whole of this case, so no announcement crossed. After case 5: run second, it
   * was followed by case 4 stalling in 2 of 3 runs, while case 3's restarted follower caught up (the
   * known problem in docs/cluster.md); whether this case's writes made that likelier is not known.
   */
  @Test
  @Order(6)
  void requestReplyAndQueueGroupsSpanTheNodes() throws Exception {
    new CoreNatsAcrossNodes(cluster).check();
  }

  /** The JetStream API from any node: declarations, a durable consumer that survives its leader's kill, a push consumer. */
  @Test
  @Order(7)
  void jetStreamStreamsAndConsumersWorkThroughAnyNodeAndSurviveTheirLeader() throws Exception {
    new NatsApisAcrossNodes(cluster).jetStream();
  }

  /** Retention rules set and removed through nodes that lead neither the rules nor the trimmed subject. */
  @Test
  @Order(8)
  void aRetentionRuleSetThroughOneNodeIsInForceOnTheLeaderOfAnotherSubjectAndItsRemovalToo() throws Exception {
    new RetentionAcrossNodes(cluster).check();
  }

  /** Versioned state over NATS through nodes that do not lead the subject: read, written and watched. */
  @Test
  @Order(9)
  void stateIsReadWrittenAndWatchedThroughAnyNode() throws Exception {
    new NatsApisAcrossNodes(cluster).state();
  }

  /** Case 6: a leader frozen by SIGSTOP (a partition of the network) is replaced, and no two leaders acknowledge. */
  @Test
  @Order(10)
  void aFrozenLeaderIsReplacedWithoutSplitBrain() throws Exception {
    String subject = "c6.orders";
    String leader = cluster.leaderOf(subject);
    String via = cluster.otherThan(leader).get(0);
    AckLedger ledger = new AckLedger(subject);
    try (Connection nc = connect(via, Duration.ofSeconds(2));
         PipelinedPublisher publisher = new PipelinedPublisher(jetStream(nc, WAIT), ledger, "c6", 100)) {
      await(() -> ledger.size() >= 300, CATCH_UP, "300 acknowledged publishes before the SIGSTOP");
      long frozen = System.nanoTime();
      cluster.sigstop(leader);
      publishUntilAcked(jetStream(nc, Duration.ofSeconds(1)), ledger, "c6-probe", Duration.ofSeconds(60));
      String newLeader = cluster.leaderOf(subject);
      System.out.printf("case 6: %s led by %s, published through %s; SIGSTOP at %d acknowledged; %s took writes %d ms "
          + "later%n", subject, leader, via, ledger.size(), newLeader, firstAckAfterMs(ledger, frozen));
      assertNotEquals(leader, newLeader, "the frozen node still leads " + subject);
      PartitionViews.assertAtMostOneLeaderPerTerm(cluster, cluster.liveNodes());
      await(() -> ledger.ackedAfter(frozen) >= 200, CATCH_UP, "200 publishes acknowledged while " + leader + " is frozen");

      cluster.sigcont(leader);
      long thawed = System.nanoTime();
      PartitionViews.assertAtMostOneLeaderPerTerm(cluster, cluster.nodeIds());
      await(() -> ledger.ackedAfter(thawed) >= 200, CATCH_UP, "200 publishes acknowledged after the SIGCONT");
      PartitionViews.assertAtMostOneLeaderPerTerm(cluster, cluster.nodeIds());
      publisher.finish(CATCH_UP);
      System.out.printf("case 6: %d messages acknowledged, %d publishes retried (last failure: %s)%n", ledger.size(),
          publisher.failures(), publisher.lastFailure());
    }
    List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, ledger.maxSequence(), CATCH_UP);
    for (Replica replica : replicas) {
      ledger.assertExactlyIn(replica);
      replica.assertSameAs(replicas.get(0));
    }
    PartitionViews.awaitOneAgreedLeaderPerPartition(cluster, CATCH_UP);
  }
  /**
   * Case 3, second part: a wiped follower rebuilds from a copy of the partition (what stands for a
   * snapshot here: docs/cluster.md), past the snapshot threshold. Last, as it leaves a
   * node whose other partitions may still be catching up.
   */
  @Test
  @Order(11)
  void aWipedFollowerRebuildsFromACopy() throws Exception {
    String subject = "c7.orders";
    AckLedger ledger = new AckLedger(subject);
    try (Connection nc = connect(cluster.leaderOf(subject), Duration.ofSeconds(2))) {
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (int i = 0; i < 30; i++) {
        publishUntilAcked(js, ledger, "c7-" + i, WAIT);
      }
    }
    String leaderNow = cluster.leaderOf(subject);
    List<String> followers = cluster.otherThan(leaderNow);
    String wiped = followers.get(0);
    cluster.stop(wiped);
    cluster.wipe(wiped);
    int before = ledger.size();
    int entries = 3 * SNAPSHOT_ENTRIES;
    try (Connection nc = connect(leaderNow, Duration.ofSeconds(2))) {
      // One synchronous publish at a time: each is a Raft entry of its own, so these pass the snapshot threshold.
      JetStream js = jetStream(nc, Duration.ofSeconds(5));
      for (int i = 0; i < entries; i++) {
        publishUntilAcked(js, ledger, "c7-while-wiped-" + i, WAIT);
      }
    }
    // Killed once more as soon as its Raft server started: some of its partitions' groups may exist on
    // disk without a configuration (one created outside its group, not yet reached by its leader), and a copy may be under way.
    cluster.restartUntil(wiped, "cluster: Raft server " + wiped + " on");
    cluster.kill9(wiped);
    List<String> lines = new ArrayList<>(cluster.tail(wiped, 100_000));
    cluster.restart(wiped);
    long rebuilding = System.nanoTime();
    List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, ledger.maxSequence(), CATCH_UP);
    lines.addAll(cluster.tail(wiped, 100_000));
    long copyLines = lines.stream().filter(line -> line.contains("cop")).count();
    // The leader's log was purged past what the wiped node lacks: it must have installed a copy (in
    // either of its runs), not replayed.
    assertTrue(lines.stream().anyMatch(line -> line.contains("installed a copy from")),
        "the wiped follower installed no copy of the partition");
    // And it had no vote until then: its leader removed it first, and added it back (docs/cluster.md).
    assertTrue(lines.stream().anyMatch(line -> line.contains("removed from its group")),
        "the wiped follower rejoined without being removed from its group first");
    System.out.printf("case 3b: %s wiped, %d entries written meanwhile (snapshot every %d), rebuilt to sequence %d in %d ms "
        + "after it was ready; %d of its log lines mention a copy%n", wiped, ledger.size() - before, SNAPSHOT_ENTRIES,
        ledger.maxSequence(), msSince(rebuilding), copyLines);
    for (Replica replica : replicas) {
      ledger.assertExactlyIn(replica);
      replica.assertSameAs(replicas.get(0));
    }
    // In every partition, written to since the wipe or not, it is a voter again and caught up.
    PartitionViews.awaitEveryPartitionCaughtUp(cluster, wiped, CATCH_UP);
    System.out.printf("case 3b: %s a voter again in every partition, caught up, %d ms after it was ready%n", wiped,
        msSince(rebuilding));
  }

  private static Connection connect(String node, Duration asyncPublishTimeout) throws Exception {
    return ClusterClients.connect(cluster.natsUrl(node), asyncPublishTimeout);
  }

  /** A subject other than {@code subject}, named {@code prefix<n>}, in the same partition. */
  private static String subjectInPartitionOf(String subject, String prefix) throws Exception {
    int partition = cluster.partitionOf(subject);
    for (int i = 0; i < 1000; i++) {
      if (cluster.partitionOf(prefix + i) == partition) {
        return prefix + i;
      }
    }
    throw new AssertionError("no subject " + prefix + "0..999 in partition " + partition);
  }

  /**
   * Publishes to {@code warmSubject} until the subscription receives one: the contract does not say
   * when a new subscription's interest reaches a remote leader, so case 1 starts only once it has.
   */
  private static void awaitDeliveryThrough(Subscription subscription, JetStream js, String warmSubject) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    AckLedger warm = new AckLedger(warmSubject);
    for (int i = 0; System.nanoTime() < deadline; i++) {
      publishUntilAcked(js, warm, "warm-" + i, WAIT);
      if (nextOn(subscription, warmSubject, System.nanoTime() + TimeUnit.SECONDS.toNanos(1)) != null) {
        return;
      }
    }
    fail("no message on " + warmSubject + " reached the subscription within " + WAIT);
  }

  /** The next message the subscription gets on {@code subject} (others skipped) before the deadline, or null. */
  private static Message nextOn(Subscription subscription, String subject, long deadlineNanos) throws InterruptedException {
    while (true) {
      long left = deadlineNanos - System.nanoTime();
      if (left <= 0) {
        return null;
      }
      Message message = subscription.nextMessage(Duration.ofNanos(left));
      if (message != null && message.getSubject().equals(subject)) {
        return message;
      }
    }
  }
}
