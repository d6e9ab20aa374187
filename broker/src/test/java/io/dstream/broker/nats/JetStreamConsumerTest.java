package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StreamConfiguration;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JetStream consumers through jnats: push and pull, ack policies, redelivery, bounds, and durable state across a restart. */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class JetStreamConsumerTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static Vertx vertx;
  private static TestBroker broker;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)));
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static Connection connect() throws Exception {
    return JnatsClientTest.connect(broker.broker().natsPort(), TestBroker.API_KEY);
  }

  private static String text(Message message) {
    return new String(message.getData(), StandardCharsets.UTF_8);
  }

  /** A durable pull subscription on {@code subject} of {@code stream} whose deliveries wait {@code ackWait} for their ack. */
  private static JetStreamSubscription pullWithAckWait(Connection nc, String stream, String subject, String durable,
                                                       Duration ackWait) throws Exception {
    return nc.jetStream().subscribe(subject, PullSubscribeOptions.builder().stream(stream).durable(durable)
        .configuration(ConsumerConfiguration.builder().ackWait(ackWait).build()).build());
  }

  private static void stream(Connection nc, String name, String subject, int messages) throws Exception {
    nc.jetStreamManagement().addStream(StreamConfiguration.builder().name(name).subjects(subject).build());
    for (int i = 1; i <= messages; i++) {
      nc.jetStream().publish(subject, ("m" + i).getBytes(StandardCharsets.UTF_8));
    }
  }

  @Test
  void aPullFromADeletedConsumerEndsEmptyAsFromNatsServer() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "GONE", "cons.gone", 2);
      JetStreamManagement jsm = nc.jetStreamManagement();
      jsm.addOrUpdateConsumer("GONE", ConsumerConfiguration.builder().durable("w").build());
      JetStreamSubscription pull = nc.jetStream().subscribe("cons.gone", PullSubscribeOptions.bind("GONE", "w"));
      assertEquals(1, pull.fetch(1, WAIT).size(), "a pull from the consumer while it exists");
      jsm.deleteConsumer("GONE", "w");
      // An error body on the pull inbox made jnats's fetch throw a NullPointerException.
      assertEquals(List.of(), pull.fetch(1, Duration.ofSeconds(1)), "a pull after the consumer was deleted");
    }
  }

  @Test
  void aPushConsumerReplaysThenGoesLiveWithExplicitAcks() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "PUSH", "cons.push", 3);
      JetStream js = nc.jetStream();
      JetStreamSubscription sub = js.subscribe("cons.push", PushSubscribeOptions.builder().stream("PUSH")
          .durable("pusher").configuration(ConsumerConfiguration.builder().ackPolicy(AckPolicy.Explicit).build())
          .build());
      for (int i = 1; i <= 3; i++) {
        Message message = sub.nextMessage(WAIT);
        assertEquals("m" + i, text(message));
        assertEquals("cons.push", message.getSubject(), "a delivery carries its stream's subject, not the inbox");
        assertEquals(i, message.metaData().streamSequence());
        assertEquals(1, message.metaData().deliveredCount());
        message.ack();
      }
      js.publish("cons.push", "live".getBytes(StandardCharsets.UTF_8));
      Message live = sub.nextMessage(WAIT);
      assertEquals("live", text(live));
      live.ackSync(WAIT);
      ConsumerInfo info = nc.jetStreamManagement().getConsumerInfo("PUSH", "pusher");
      assertEquals(4, info.getAckFloor().getStreamSequence());
      assertEquals(0, info.getNumAckPending());
      assertTrue(nc.jetStreamManagement().getConsumerNames("PUSH").contains("pusher"));
    }
  }

  @Test
  void aPullConsumerFetchesBatchesAndAnUnackedMessageComesBackAfterAckWait() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "PULL", "cons.pull", 5);
      JetStreamSubscription sub = pullWithAckWait(nc, "PULL", "cons.pull", "puller", Duration.ofMillis(500));
      List<Message> batch = sub.fetch(3, WAIT);
      assertEquals(List.of("m1", "m2", "m3"), batch.stream().map(JetStreamConsumerTest::text).toList());
      assertEquals("cons.pull", batch.get(0).getSubject());
      batch.get(0).ack();
      batch.get(2).ack();
      // m2 was not acked: after the ack wait it comes again, marked as a second delivery.
      List<Message> again = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (again.stream().noneMatch(m -> text(m).equals("m2")) && System.nanoTime() < deadline) {
        again.addAll(sub.fetch(5, Duration.ofSeconds(1)));
      }
      Message redelivered = again.stream().filter(m -> text(m).equals("m2")).findFirst().orElseThrow();
      assertEquals(2, redelivered.metaData().deliveredCount());
      again.forEach(Message::ack);
      assertTrue(again.stream().anyMatch(m -> text(m).equals("m5")), "the rest of the stream came too");
    }
  }

  @Test
  void anAckAfterTheAckWaitStillCountsUntilTheMessageIsSentAgain() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "LATE", "cons.late", 2);
      JetStreamSubscription sub = pullWithAckWait(nc, "LATE", "cons.late", "slow", Duration.ofMillis(200));
      Message first = sub.fetch(1, WAIT).get(0);
      assertEquals("m1", text(first));
      // The ack wait runs out and a tick (at most a second) puts m1 up for redelivery; no pull asks for it.
      Thread.sleep(1_500);
      first.ackSync(WAIT);
      ConsumerInfo info = nc.jetStreamManagement().getConsumerInfo("LATE", "slow");
      assertEquals(0, info.getNumAckPending(), "m1's late ack counted, as nats-server counts it");
      assertEquals(1, info.getAckFloor().getStreamSequence());
      Message next = sub.fetch(1, WAIT).get(0);
      assertEquals("m2", text(next), "m1 is not sent again");
      assertEquals(1, next.metaData().deliveredCount());
      next.ack();
    }
  }

  @Test
  void nakSendsAgainTermDropsAndMaxAckPendingBoundsTheWindow() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "BOUND", "cons.bound", 10);
      JetStreamSubscription sub = nc.jetStream().subscribe("cons.bound", PushSubscribeOptions.builder()
          .stream("BOUND").configuration(ConsumerConfiguration.builder().maxAckPending(4).build()).build());
      List<Message> window = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        window.add(sub.nextMessage(WAIT));
      }
      assertNull(sub.nextMessage(Duration.ofMillis(500)), "no more than max_ack_pending unacknowledged");
      window.get(0).nak();
      Message again = sub.nextMessage(WAIT);
      assertEquals("m1", text(again));
      assertEquals(2, again.metaData().deliveredCount());
      again.term();
      window.get(1).ack();
      assertEquals("m5", text(sub.nextMessage(WAIT)));
      assertEquals("m6", text(sub.nextMessage(WAIT)));
    }
  }

  @Test
  void deliverPoliciesStartWhereAsked() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "POLICY", "cons.policy", 5);
      JetStream js = nc.jetStream();
      JetStreamSubscription last = js.subscribe("cons.policy", PushSubscribeOptions.builder().stream("POLICY")
          .configuration(ConsumerConfiguration.builder().deliverPolicy(DeliverPolicy.Last).build()).build());
      JetStreamSubscription fromThree = js.subscribe("cons.policy", PushSubscribeOptions.builder().stream("POLICY")
          .configuration(ConsumerConfiguration.builder().deliverPolicy(DeliverPolicy.ByStartSequence).startSequence(3)
              .build()).build());
      JetStreamSubscription onlyNew = js.subscribe("cons.policy", PushSubscribeOptions.builder().stream("POLICY")
          .configuration(ConsumerConfiguration.builder().deliverPolicy(DeliverPolicy.New).build()).build());
      assertEquals("m5", text(last.nextMessage(WAIT)));
      assertEquals("m3", text(fromThree.nextMessage(WAIT)));
      js.publish("cons.policy", "m6".getBytes(StandardCharsets.UTF_8));
      assertEquals("m6", text(onlyNew.nextMessage(WAIT)));
    }
  }

  @Test
  void aDurableConsumerResumesAfterARestartWithoutLoss() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "KEEP", "cons.keep", 6);
      JetStreamSubscription sub = nc.jetStream().subscribe("cons.keep", PullSubscribeOptions.builder().stream("KEEP")
          .durable("keeper").build());
      List<Message> first = sub.fetch(4, WAIT);
      assertEquals(4, first.size());
      first.get(0).ackSync(WAIT);
      first.get(1).ackSync(WAIT);
      first.get(3).ackSync(WAIT);
    }
    broker.stop();
    broker.restart();
    try (Connection nc = connect()) {
      JetStreamManagement jsm = nc.jetStreamManagement();
      ConsumerInfo info = jsm.getConsumerInfo("KEEP", "keeper");
      assertEquals(2, info.getAckFloor().getStreamSequence(), "acked up to m2 survived");
      JetStreamSubscription sub = nc.jetStream().subscribe("cons.keep", PullSubscribeOptions.bind("KEEP", "keeper"));
      List<String> rest = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (rest.size() < 3 && System.nanoTime() < deadline) {
        for (Message message : sub.fetch(10, Duration.ofSeconds(1))) {
          rest.add(text(message));
          message.ack();
        }
      }
      assertEquals(List.of("m3", "m5", "m6"), rest, "the unacked m3 again, then what was never sent; m4 was acked");
      assertNotNull(jsm.getStreamInfo("KEEP"));
    }
  }

  @Test
  void consumerListingsComeInPagesOfNatsServersSizeAndJnatsReadsThemAll() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "MANY", "cons.many", 0);
      JetStreamManagement jsm = nc.jetStreamManagement();
      List<String> created = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        String name = String.format("c%03d", i);
        jsm.addOrUpdateConsumer("MANY", ConsumerConfiguration.builder().durable(name).build());
        created.add(name);
      }
      JsonObject first = new JsonObject(new String(nc.request("$JS.API.CONSUMER.LIST.MANY", new byte[0], WAIT).getData(),
          StandardCharsets.UTF_8));
      assertEquals(300, first.getInteger("total"));
      assertEquals(256, first.getJsonArray("consumers").size(), "a page of infos is 256, as nats-server's");
      JsonObject last = new JsonObject(new String(nc.request("$JS.API.CONSUMER.LIST.MANY",
          "{\"offset\":256}".getBytes(StandardCharsets.UTF_8), WAIT).getData(), StandardCharsets.UTF_8));
      assertEquals(256, last.getInteger("offset"));
      assertEquals(44, last.getJsonArray("consumers").size());
      assertEquals("c256", last.getJsonArray("consumers").getJsonObject(0).getString("name"));
      JsonObject names = new JsonObject(new String(nc.request("$JS.API.CONSUMER.NAMES.MANY",
          "{\"offset\":299}".getBytes(StandardCharsets.UTF_8), WAIT).getData(), StandardCharsets.UTF_8));
      assertEquals(List.of("c299"), names.getJsonArray("consumers").getList());
      // jnats asks page after page until it has the total.
      assertEquals(created, jsm.getConsumerNames("MANY"));
      assertEquals(created, jsm.getConsumers("MANY").stream().map(ConsumerInfo::getName).toList());
    }
  }
}
