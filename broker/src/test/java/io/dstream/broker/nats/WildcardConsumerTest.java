package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.config.NatsSettings;
import io.dstream.broker.s3.TestS3;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.Subscription;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A durable consumer of a wildcard stream ({@code orders.>}) through jnats: it follows existing
 * subjects and subjects created after it, each in its own order with its own sequences, acks reach
 * the right subject, and it resumes after a restart and after a lost disk restored from the bucket
 * (an S3 server outside the broker's data dir) without a client touching it first.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class WildcardConsumerTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final ArchivePolicy FAST = new ArchivePolicy(Duration.ofMillis(100), 100_000, 64L << 20,
      Duration.ofDays(1), Duration.ofMillis(50), Duration.ofMillis(400));

  private Vertx vertx;
  private TestS3 s3;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    s3 = TestS3.start();
  }

  @AfterEach
  void stop() throws Exception {
    s3.close();
    vertx.close().await();
  }

  private TestBroker broker(Path dataDir) {
    return TestBroker.start(vertx, dataDir, b -> b.s3(s3.settings()).archivePolicy(FAST)
        .nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)));
  }

  private static Connection connect(TestBroker broker) throws Exception {
    return JnatsClientTest.connect(broker.broker().natsPort(), TestBroker.API_KEY);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static void eventually(String what, BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    fail("not within 30 s: " + what);
  }

  /** Fetches until {@code count} messages came (or the wait ends), acking each; subject → sequences in arrival order. */
  private static Map<String, List<Long>> take(JetStreamSubscription sub, int count) throws Exception {
    Map<String, List<Long>> bySubject = new TreeMap<>();
    int got = 0;
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (got < count && System.nanoTime() < deadline) {
      for (Message message : sub.fetch(count - got, Duration.ofSeconds(1))) {
        assertEquals(message.getSubject() + "#" + message.metaData().streamSequence(),
            new String(message.getData(), StandardCharsets.UTF_8), "each message on its own subject with its sequence");
        bySubject.computeIfAbsent(message.getSubject(), s -> new ArrayList<>()).add(message.metaData().streamSequence());
        message.ackSync(WAIT);
        got++;
      }
    }
    return bySubject;
  }

  private static void publish(Connection nc, String subject, long sequence) throws Exception {
    PublishAck ack = nc.jetStream().publish(subject, bytes(subject + "#" + sequence));
    assertEquals(sequence, ack.getSeqno());
    assertEquals("ORDERS", ack.getStream(), "a publish to a matching subject names the wildcard stream");
  }

  @Test
  void followsExistingAndNewSubjectsAndResumesAfterARestartAndALostDisk() throws Exception {
    Path firstDisk = Files.createTempDirectory("dstream-wild");
    try (TestBroker broker = broker(firstDisk); Connection nc = connect(broker)) {
      JetStreamManagement jsm = nc.jetStreamManagement();
      jsm.addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.>").build());
      publish(nc, "orders.eu", 1);
      publish(nc, "orders.eu", 2);
      publish(nc, "orders.us", 1);
      jsm.addOrUpdateConsumer("ORDERS", ConsumerConfiguration.builder().durable("all").ackPolicy(AckPolicy.Explicit)
          .ackWait(Duration.ofSeconds(1)).build());
      jsm.addOrUpdateConsumer("ORDERS", ConsumerConfiguration.builder().durable("pushed").ackPolicy(AckPolicy.None)
          .deliverSubject("deliver.orders").build());
      JetStreamSubscription sub = nc.jetStream().subscribe("orders.>", PullSubscribeOptions.bind("ORDERS", "all"));
      assertEquals(Map.of("orders.eu", List.of(1L, 2L), "orders.us", List.of(1L)), take(sub, 3));
      publish(nc, "orders.asia.jp", 1);
      publish(nc, "orders.asia.jp", 2);
      publish(nc, "orders.us", 2);
      assertEquals(Map.of("orders.asia.jp", List.of(1L, 2L), "orders.us", List.of(2L)), take(sub, 3),
          "a subject created after the consumer is followed from its first message");
      StreamInfo info = jsm.getStreamInfo("ORDERS");
      assertEquals(6, info.getStreamState().getMsgCount(), "messages summed over the subjects");
      assertEquals(3, info.getStreamState().getSubjectCount());

      // orders.eu#3 and orders.us#3 both have sequence 3: only the acked one may stay acked.
      publish(nc, "orders.eu", 3);
      publish(nc, "orders.us", 3);
      List<Message> both = sub.fetch(2, WAIT);
      assertEquals(2, both.size());
      Message us = both.stream().filter(m -> m.getSubject().equals("orders.us")).findFirst().orElseThrow();
      us.ackSync(WAIT);
      List<Message> again = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (again.isEmpty() && System.nanoTime() < deadline) {
        again.addAll(sub.fetch(2, Duration.ofSeconds(1)));
      }
      assertEquals(1, again.size(), "only the unacked delivery came again");
      assertEquals("orders.eu", again.get(0).getSubject());
      assertEquals(3, again.get(0).metaData().streamSequence());
      assertEquals(2, again.get(0).metaData().deliveredCount());
      again.get(0).ackSync(WAIT);
    }

    try (TestBroker broker = broker(firstDisk); Connection nc = connect(broker)) {
      publish(nc, "orders.eu", 4);
      publish(nc, "orders.africa", 1);
      JetStreamSubscription sub = nc.jetStream().subscribe("orders.>", PullSubscribeOptions.bind("ORDERS", "all"));
      assertEquals(Map.of("orders.africa", List.of(1L), "orders.eu", List.of(4L)), take(sub, 2),
          "after a restart: nothing acknowledged again, the rest in order");
      assertNull(sub.fetch(5, Duration.ofSeconds(1)).stream().findFirst().orElse(null));
      // The push consumer delivers once someone listens: all ten messages, each subject in order.
      Subscription listener = nc.subscribe("deliver.orders");
      Map<String, List<Long>> pushed = new TreeMap<>();
      for (int i = 0; i < 10; i++) {
        Message message = listener.nextMessage(WAIT);
        pushed.computeIfAbsent(message.getSubject(), s -> new ArrayList<>()).add(message.metaData().streamSequence());
      }
      assertEquals(Map.of("orders.eu", List.of(1L, 2L, 3L, 4L), "orders.us", List.of(1L, 2L, 3L),
          "orders.asia.jp", List.of(1L, 2L), "orders.africa", List.of(1L)), pushed);
      listener.unsubscribe();
      // Saved at most a second later, then checkpointed with its subject.
      Thread.sleep(1_500);
      eventually("every change checkpointed",
          () -> broker.broker().archive().checkpointHealth().subjectsBehind() == 0);
    }

    Path secondDisk = Files.createTempDirectory("dstream-wild-restored");
    deleteTree(firstDisk);
    try (TestBroker broker = broker(secondDisk); Connection nc = connect(broker)) {
      // The push consumer delivers without any JetStream request: it came back with the broker.
      Subscription delivered = nc.subscribe("deliver.orders");
      nc.flush(WAIT);
      nc.publish("orders.eu", bytes("orders.eu#5"));
      Message pushed = delivered.nextMessage(WAIT);
      assertEquals("orders.eu", pushed.getSubject());
      assertEquals("orders.eu#5", new String(pushed.getData(), StandardCharsets.UTF_8),
          "only what came after its saved position");
      publish(nc, "orders.us", 4);
      JetStreamSubscription sub = nc.jetStream().subscribe("orders.>", PullSubscribeOptions.bind("ORDERS", "all"));
      assertEquals(Map.of("orders.eu", List.of(5L), "orders.us", List.of(4L)), take(sub, 2),
          "after a lost disk: positions from the bucket, nothing acknowledged before the last save again");
    }
  }

  private static void deleteTree(Path root) throws Exception {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(path);
      }
    }
  }
}
