package io.dstream.broker.cluster;

import static io.dstream.broker.cluster.ClusterClients.jetStream;
import static io.dstream.broker.cluster.ClusterClients.publishUntilAcked;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dstream.broker.ClusterProcesses;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PublishOptions;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A wildcard JetStream stream in cluster mode (docs/cluster.md, placement): with
 * {@code DSTREAM_CLUSTER_PLACEMENT_TOKENS=1} every subject {@code orders.>} matches is in the
 * partition of {@code orders}, so one node leads them all and runs the stream's consumers. Three
 * nodes as child JVMs: the stream is declared through one node that does not lead it, published to
 * and consumed through the other one, and its leader is killed with {@code kill -9} halfway through
 * a durable consumer: the consumer goes on from its saved positions on the new leader, with no
 * acknowledged message delivered again, and follows a subject created after the failover. (Without
 * the setting, a wildcard stream is refused: ClusterIT.)
 */
@Tag("slow")
@Tag("cluster")
@Timeout(value = 4, unit = TimeUnit.MINUTES)
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
class ClusterWildcardStreamIT {

  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final Duration FAILOVER = Duration.ofSeconds(60);
  private static final List<String> SUBJECTS = List.of("orders.eu.1", "orders.us.2", "orders.ap.3");
  private static final int PER_SUBJECT = 10;

  @TempDir
  Path dir;

  @Test
  void aWildcardStreamIsLedByOneNodeAndItsConsumerSurvivesThatNode() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(dir, 3, Map.of("DSTREAM_CLUSTER_PARTITIONS", "8",
        "DSTREAM_CLUSTER_PLACEMENT_TOKENS", "1"))) {
      String leader = cluster.leaderOf("orders");
      for (String subject : SUBJECTS) {
        assertEquals(leader, cluster.leaderOf(subject), "the leader of " + subject + ", as of orders");
      }
      String declaring = cluster.otherThan(leader).get(0);
      String using = cluster.otherThan(leader).get(1);
      System.out.printf("wildcard stream: orders.> led by %s, declared on %s, used on %s%n", leader, declaring, using);
      try (Connection declarer = ClusterClients.connect(cluster.natsUrl(declaring), WAIT);
           Connection user = ClusterClients.connect(cluster.natsUrl(using), WAIT)) {
        StreamInfo created = declarer.jetStreamManagement().addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>")
            .storageType(StorageType.File).build());
        assertEquals(leader, created.getClusterInfo().getLeader(), "the stream's leader in its info");
        JetStream js = jetStream(user, WAIT);
        for (int i = 0; i < PER_SUBJECT; i++) {
          for (String subject : SUBJECTS) {
            PublishAck ack = js.publish(subject, body(subject, i), PublishOptions.builder().expectedStream("ORDERS")
                .build());
            assertEquals("ORDERS", ack.getStream(), "the stream a PubAck of " + subject + " names");
            assertEquals(i + 1, ack.getSeqno(), "each subject has its own sequence: " + subject);
          }
        }
        StreamInfo info = user.jetStreamManagement().getStreamInfo("ORDERS");
        assertEquals(SUBJECTS.size() * PER_SUBJECT, info.getStreamState().getMsgCount(), "messages, through " + using);
        assertEquals(SUBJECTS.size(), info.getStreamState().getSubjectCount(), "subjects, through " + using);

        user.jetStreamManagement().addOrUpdateConsumer("ORDERS", ConsumerConfiguration.builder().durable("all")
            .ackPolicy(AckPolicy.Explicit).ackWait(Duration.ofSeconds(5)).build());
        JetStreamSubscription pull = js.subscribe("orders.>", PullSubscribeOptions.bind("ORDERS", "all"));
        Map<String, List<Integer>> acknowledged = new HashMap<>();
        int total = SUBJECTS.size() * PER_SUBJECT;
        int count = 0;
        while (count < total / 2) {
          for (Message message : pull.fetch(total / 2 - count, WAIT)) {
            record(acknowledged, message);
            message.ackSync(WAIT);
            count++;
          }
        }
        // The consumer's positions are saved at most a second after they change.
        Thread.sleep(2_500);

        cluster.kill9(leader);
        long killed = System.nanoTime();
        Map<String, List<Integer>> after = new LinkedHashMap<>();
        long deadline = System.nanoTime() + FAILOVER.toNanos();
        while (count < total) {
          if (System.nanoTime() > deadline) {
            fail("after " + leader + " was killed, the consumer got only " + after);
          }
          // A pull no node serves yet (an election) gets no answer: the fetch ends empty.
          for (Message message : pull.fetch(total - count, Duration.ofSeconds(2))) {
            if (message.isJetStream()) {
              int index = record(after, message);
              assertTrue(!acknowledged.getOrDefault(message.getSubject(), List.of()).contains(index),
                  "acknowledged before the failover and delivered again: " + message.getSubject() + " " + index);
              message.ackSync(WAIT);
              count++;
            }
          }
        }
        System.out.printf("wildcard stream: the consumer resumed %d ms after %s was killed; got %s%n",
            (System.nanoTime() - killed) / 1_000_000, leader, after);
        for (String subject : SUBJECTS) {
          List<Integer> all = new ArrayList<>(acknowledged.getOrDefault(subject, List.of()));
          all.addAll(after.getOrDefault(subject, List.of()));
          assertEquals(IntStream.range(0, PER_SUBJECT).boxed().toList(), all, "every message of " + subject + ", in its order, once");
        }

        // A subject created after the failover is followed from its first message.
        publishUntilAcked(js, new AckLedger("orders.new.4"), "late", WAIT);
        List<Message> late = pull.fetch(1, WAIT);
        assertEquals(1, late.size(), "the message of a subject created after the failover");
        assertEquals("orders.new.4", late.get(0).getSubject());
        late.get(0).ackSync(WAIT);
      }
    }
  }

  private static byte[] body(String subject, int index) {
    return (subject + ":" + index).getBytes(StandardCharsets.UTF_8);
  }

  /** Files the message under its subject; returns its index. */
  private static int record(Map<String, List<Integer>> received, Message message) {
    String body = new String(message.getData(), StandardCharsets.UTF_8);
    assertTrue(body.startsWith(message.getSubject() + ":"), "a message's body names its subject: " + body);
    int index = Integer.parseInt(body.substring(body.indexOf(':') + 1));
    received.computeIfAbsent(message.getSubject(), s -> new ArrayList<>()).add(index);
    return index;
  }
}
