package io.dstream.broker.cluster;

import io.dstream.broker.ClusterProcesses;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamOptions;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.Subscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.Replica;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;

import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * ClusterIT's cases for the NATS APIs beyond core NATS. JetStream: a stream declared through one
 * node, published to and consumed through another, while the third (the node leading the stream's
 * subject, where its consumers run) is killed. Versioned state: read, written and watched through
 * nodes that do not lead the subject. Only what a JetStream user is promised is asserted: every message is
 * delivered to the durable consumer at least once, in order where nothing was redelivered, its
 * acknowledged position survives the failover, and every node answers the same declarations.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
final class NatsApisAcrossNodes {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration FAILOVER = Duration.ofSeconds(60);
  private static final int COUNT = 50;

  private final ClusterProcesses cluster;

  NatsApisAcrossNodes(ClusterProcesses cluster) {
    this.cluster = cluster;
  }

  void jetStream() throws Exception {
    String subject = "c9.orders";
    String leader = cluster.leaderOf(subject);
    // The consuming node must not be the declarations' leader, which has every declaration at once.
    boolean swap = cluster.leaderOf("$DS.JS.STREAMS").equals(cluster.otherThan(leader).get(1));
    String declaring = cluster.otherThan(leader).get(swap ? 1 : 0);
    String consuming = cluster.otherThan(leader).get(swap ? 0 : 1);
    System.out.printf("JetStream: stream on %s led by %s, declared on %s, published and consumed on %s%n", subject,
        leader, declaring, consuming);
    try (Connection declarer = connect(declaring); Connection consumer = connect(consuming)) {
      // This cluster places subjects by their whole name: a wildcard stream's subjects would have several leaders.
      JetStreamApiException spread = assertThrows(JetStreamApiException.class, () -> declarer.jetStreamManagement()
          .addStream(StreamConfiguration.builder().name("SPREAD").subjects("c9.spread.>").build()));
      assertTrue(spread.getMessage().contains("DSTREAM_CLUSTER_PLACEMENT_TOKENS"), spread.getMessage());
      StreamInfo created = declarer.jetStreamManagement().addStream(StreamConfiguration.builder().name("C9")
          .subjects(subject).storageType(StorageType.File).build());
      assertEquals("C9", created.getConfiguration().getName());
      // Declared without a replica count (1 for jnats), it has the cluster's three copies, and says so as JetStream would.
      assertEquals(3, created.getConfiguration().getReplicas(), "num_replicas of a stream on a 3-replica cluster");
      assertEquals(leader, created.getClusterInfo().getLeader(), "the stream's leader in its info");
      assertEquals(new TreeSet<>(cluster.otherThan(leader)), created.getClusterInfo().getReplicas().stream()
          .map(Replica::getName).collect(Collectors.toCollection(TreeSet::new)), "the stream's other replicas in its info");
      // Created through one node, published to through another at once: that node knows the stream already.
      PublishAck expecting = consumer.jetStream().publish(subject, "m0".getBytes(StandardCharsets.UTF_8),
          PublishOptions.builder().expectedStream("C9").build());
      assertEquals("C9", expecting.getStream(), "the PubAck of " + consuming + " right after the creation on "
          + declaring);
      for (String node : cluster.nodeIds()) {
        try (Connection asked = connect(node)) {
          assertEquals(List.of("C9"), asked.jetStreamManagement().getStreamNames(), "the streams node " + node + " names");
        }
      }
      JetStream js = consumer.jetStream(JetStreamOptions.builder().requestTimeout(WAIT).build());
      for (int i = 1; i < COUNT; i++) {
        PublishAck ack = js.publish(subject, ("m" + i).getBytes(StandardCharsets.UTF_8));
        assertEquals(i + 1, ack.getSeqno(), "PubAck " + (i + 1) + " through " + consuming);
      }
      // The leader answers stream info, and says how its replicas keep up: both current once idle.
      awaitReplicas(declarer, replica -> replica.isCurrent() && replica.getLag() == 0
          && replica.getActive().compareTo(Duration.ofSeconds(2)) < 0, "both replicas current");
      JetStreamManagement management = consumer.jetStreamManagement();
      management.addOrUpdateConsumer("C9", ConsumerConfiguration.builder().durable("worker")
          .ackPolicy(AckPolicy.Explicit).ackWait(Duration.ofSeconds(5)).build());
      JetStreamSubscription pull = js.subscribe(subject, PullSubscribeOptions.bind("C9", "worker"));
      List<String> first = new ArrayList<>();
      while (first.size() < COUNT / 2) {
        for (Message message : pull.fetch(COUNT / 2 - first.size(), WAIT)) {
          first.add(new String(message.getData(), StandardCharsets.UTF_8));
          message.ackSync(WAIT);
        }
      }
      assertEquals(expected(0, COUNT / 2), first, "the first half, fetched and acknowledged through " + consuming);
      ConsumerInfo info = declarer.jetStreamManagement().getConsumerInfo("C9", "worker");
      assertEquals(COUNT / 2, info.getAckFloor().getStreamSequence(), "the ack floor as " + declaring + " reports it");
      assertEquals(COUNT, declarer.jetStreamManagement().getStreamInfo("C9").getStreamState().getMsgCount());
      JsonObject summary = cluster.adminGet(declaring, "/admin/subjects/" + subject);
      assertEquals(1, summary.getJsonArray("consumers").size(), "the subject's subscribers, as " + declaring
          + " shows them from its leader: " + summary);
      JsonObject operated = cluster.adminGet(declaring, "/admin/consumers/C9/worker");
      assertEquals(COUNT / 2, operated.getLong("ackFloor"), "the admin API's consumer through " + declaring + ": "
          + operated);
      // The consumer's position is saved at most a second after it changes.
      Thread.sleep(2_500);

      cluster.kill9(leader);
      long killed = System.nanoTime();
      Set<String> rest = new TreeSet<>();
      List<String> inOrder = new ArrayList<>();
      long deadline = System.nanoTime() + FAILOVER.toNanos();
      while (!rest.containsAll(expected(COUNT / 2, COUNT))) {
        if (System.nanoTime() > deadline) {
          fail("after " + leader + " was killed, the consumer got only " + inOrder);
        }
        // A pull that no node serves yet (an election) gets no answer: the fetch ends empty.
        for (Message message : pull.fetch(COUNT, Duration.ofSeconds(2))) {
          if (message.isJetStream()) {
            String body = new String(message.getData(), StandardCharsets.UTF_8);
            rest.add(body);
            inOrder.add(body);
            message.ackSync(WAIT);
          }
        }
      }
      System.out.printf("JetStream: the consumer resumed %d ms after %s was killed; got %s%n",
          (System.nanoTime() - killed) / 1_000_000, leader, inOrder);
      // The new leader's stream info tells of the killed node: not current, silent for longer and longer.
      awaitReplicas(declarer, replica -> !replica.getName().equals(leader) || !replica.isCurrent()
          && replica.getActive().compareTo(Duration.ofSeconds(1)) > 0, "the killed " + leader + " not current");
      assertTrue(inOrder.stream().noneMatch(expected(0, COUNT / 2)::contains),
          "a message acknowledged before the failover was delivered again: " + inOrder);

      // A push consumer through the declaring node gets every message from the new leader.
      JetStreamSubscription push = declarer.jetStream().subscribe(subject, PushSubscribeOptions.builder().build());
      List<String> pushed = new ArrayList<>();
      Message message;
      while (pushed.size() < COUNT && (message = push.nextMessage(WAIT)) != null) {
        pushed.add(new String(message.getData(), StandardCharsets.UTF_8));
        message.ack();
      }
      assertEquals(expected(0, COUNT), pushed, "a push consumer's deliveries through " + declaring);
      // Its acks, plain ones, are forwarded to the leader in batches: all of them arrive.
      long acknowledgedBy = System.nanoTime() + WAIT.toNanos();
      while (push.getConsumerInfo().getNumAckPending() > 0) {
        assertTrue(System.nanoTime() < acknowledgedBy, "acks of the push consumer through " + declaring
            + " still pending: " + push.getConsumerInfo());
        Thread.sleep(100);
      }
    }
  }

  /** Waits until every replica listed in the stream info of C9 passes {@code check}. */
  private static void awaitReplicas(Connection connection, java.util.function.Predicate<Replica> check, String what)
      throws Exception {
    long deadline = System.nanoTime() + FAILOVER.toNanos();
    while (true) {
      List<Replica> replicas = connection.jetStreamManagement().getStreamInfo("C9").getClusterInfo().getReplicas();
      if (replicas.size() == 2 && replicas.stream().allMatch(check)) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, what + ": the stream info's replicas are " + replicas.stream()
          .map(r -> r.getName() + " current " + r.isCurrent() + " active " + r.getActive() + " lag " + r.getLag()).toList());
      Thread.sleep(200);
    }
  }

  void state() throws Exception {
    String subject = "c10.config";
    String leader = cluster.leaderOf(subject);
    String watching = cluster.otherThan(leader).get(0);
    String writing = cluster.otherThan(leader).get(1);
    try (Connection watcher = connect(watching); Connection writer = connect(writing)) {
      Subscription watch = watcher.subscribe("$DS.STATE.WATCH." + subject);
      watcher.flush(WAIT);
      Message initial = watch.nextMessage(WAIT);
      assertEquals("0", initial.getHeaders().getFirst("Ds-Revision"), "the watch's initial state, from " + leader);
      // The watch is announced to the leader within a tick: until a change reaches it, keep writing.
      Message changed = null;
      for (int revision = 1; changed == null; revision++) {
        assertTrue(revision < 100, "no change written through " + writing + " reached the watch on " + watching);
        JsonObject put = answer(writer, "$DS.STATE.PUT." + subject, "{\"v\":" + revision + "}");
        assertEquals(revision, put.getLong("revision"), "the revision of a put through " + writing + ": " + put);
        changed = watch.nextMessage(Duration.ofMillis(500));
      }
      long revision = Long.parseLong(changed.getHeaders().getFirst("Ds-Revision"));
      JsonObject read = answer(watcher, "$DS.STATE.GET." + subject, "");
      assertTrue(read.getLong("revision") >= revision, "a read through " + watching + ": " + read);
      Message next = null;
      long last = read.getLong("revision");
      JsonObject put = answer(writer, "$DS.STATE.PUT." + subject, "{\"v\":\"last\"}");
      assertEquals(last + 1, put.getLong("revision"));
      while (next == null || Long.parseLong(next.getHeaders().getFirst("Ds-Revision")) < last + 1) {
        next = watch.nextMessage(WAIT);
        assertTrue(next != null, "the watch on " + watching + " missed revision " + (last + 1));
      }
      assertEquals("{\"v\":\"last\"}", new String(next.getData(), StandardCharsets.UTF_8));

      // An operator's write through a node that does not lead the subject reaches its leader too.
      HttpResponse<String> operated = cluster.put(watching, "/admin/subjects/" + subject + "/state", "{\"v\":\"admin\"}");
      assertEquals(200, operated.statusCode(), "PUT /admin/subjects/" + subject + "/state through " + watching + ": "
          + operated.body());
      Message adminChange = watch.nextMessage(WAIT);
      assertTrue(adminChange != null, "the watch on " + watching + " missed the operator's write");
      assertEquals("{\"v\":\"admin\"}", new String(adminChange.getData(), StandardCharsets.UTF_8));
    }
  }

  private static JsonObject answer(Connection connection, String subject, String body) throws Exception {
    Message answer = connection.request(subject, body.getBytes(StandardCharsets.UTF_8), WAIT);
    assertTrue(answer != null, "no answer to " + subject);
    return new JsonObject(new String(answer.getData(), StandardCharsets.UTF_8));
  }

  private static List<String> expected(int from, int to) {
    List<String> bodies = new ArrayList<>();
    for (int i = from; i < to; i++) {
      bodies.add("m" + i);
    }
    return bodies;
  }

  private Connection connect(String node) throws IOException, InterruptedException {
    return ClusterClients.connect(cluster.natsUrl(node), WAIT);
  }
}
