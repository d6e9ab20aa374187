package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Work queues through jnats: several pull clients bound to one durable consumer share its messages,
 * a client that dies holding messages loses none of them, acknowledged messages leave a
 * {@code workqueue} stream, and only one consumer may take a work queue's messages.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class WorkQueueTest {

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

  private static void workQueue(Connection nc, String name, String subject, int messages) throws Exception {
    nc.jetStreamManagement().addStream(StreamConfiguration.builder().name(name).subjects(subject)
        .retentionPolicy(RetentionPolicy.WorkQueue).build());
    for (int i = 1; i <= messages; i++) {
      nc.jetStream().publish(subject, ("job" + i).getBytes(StandardCharsets.UTF_8));
    }
  }

  private static void eventually(String what, java.util.concurrent.Callable<Boolean> condition) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.call()) {
        return;
      }
      Thread.sleep(100);
    }
    fail("not within " + WAIT + ": " + what);
  }

  @Test
  void threePullersShareTheQueueAndTheMessagesOfOneThatDiesGoToTheOthers() throws Exception {
    int jobs = 60;
    try (Connection admin = connect()) {
      workQueue(admin, "JOBS", "wq.jobs", jobs);
      admin.jetStreamManagement().addOrUpdateConsumer("JOBS", ConsumerConfiguration.builder().durable("workers")
          .ackPolicy(AckPolicy.Explicit).ackWait(Duration.ofSeconds(1)).build());
      Set<String> held;
      // The third worker takes five jobs and dies without acking any of them.
      try (Connection doomed = connect()) {
        JetStreamSubscription sub = doomed.jetStream().subscribe(null, PullSubscribeOptions.bind("JOBS", "workers"));
        List<Message> taken = sub.fetch(5, WAIT);
        assertEquals(5, taken.size());
        held = ConcurrentHashMap.newKeySet();
        taken.forEach(message -> held.add(text(message)));
      }
      Map<String, Integer> done = new ConcurrentHashMap<>();
      AtomicInteger redelivered = new AtomicInteger();
      ExecutorService workers = Executors.newFixedThreadPool(2);
      // A worker that got its first jobs waits for the other's first ones: otherwise one could drain the
      // queue while the other's first pull was still on its way (seen once with a busy core).
      CountDownLatch firstShares = new CountDownLatch(2);
      try {
        List<Future<Integer>> shares = new ArrayList<>();
        for (int w = 0; w < 2; w++) {
          shares.add(workers.submit(() -> {
            int mine = 0;
            try (Connection nc = connect()) {
              JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.bind("JOBS", "workers"));
              long deadline = System.nanoTime() + 3 * WAIT.toNanos();
              boolean waited = false;
              while (done.size() < jobs && System.nanoTime() < deadline) {
                for (Message message : sub.fetch(10, Duration.ofMillis(500))) {
                  done.merge(text(message), 1, Integer::sum);
                  if (message.metaData().deliveredCount() > 1) {
                    redelivered.incrementAndGet();
                  }
                  message.ack();
                  mine++;
                }
                if (!waited && mine > 0) {
                  waited = true;
                  firstShares.countDown();
                  assertTrue(firstShares.await(WAIT.toMillis(), TimeUnit.MILLISECONDS), "the other worker got jobs");
                }
              }
              nc.flush(WAIT);
            }
            return mine;
          }));
        }
        for (Future<Integer> share : shares) {
          assertTrue(share.get(60, TimeUnit.SECONDS) > 0, "both live workers got a share");
        }
      } finally {
        workers.shutdownNow();
      }
      assertEquals(jobs, done.size(), "every job was processed");
      held.forEach(job -> assertTrue(done.containsKey(job), job + ", held by the dead worker, went to another"));
      assertTrue(redelivered.get() >= held.size(), "the dead worker's jobs came as redeliveries");
      assertTrue(done.values().stream().allMatch(times -> times == 1), "no job was processed twice: " + done);
      JetStreamManagement jsm = admin.jetStreamManagement();
      eventually("acknowledged jobs left the stream", () -> jsm.getStreamInfo("JOBS").getStreamState().getMsgCount() == 0);
      StreamInfo info = jsm.getStreamInfo("JOBS");
      assertEquals(jobs + 1, info.getStreamState().getFirstSequence());
      assertEquals(RetentionPolicy.WorkQueue, info.getConfiguration().getRetentionPolicy());
    }
  }

  @Test
  void aWorkQueueRemovesWhatItsConsumerAcknowledgedUpToTheFloor() throws Exception {
    try (Connection nc = connect()) {
      workQueue(nc, "TRIM", "wq.trim", 10);
      JetStreamSubscription sub = nc.jetStream().subscribe(null, PullSubscribeOptions.builder().stream("TRIM")
          .durable("trimmer").build());
      List<Message> batch = sub.fetch(5, WAIT);
      assertEquals(5, batch.size());
      batch.get(0).ackSync(WAIT);
      batch.get(1).ackSync(WAIT);
      batch.get(3).ackSync(WAIT);
      JetStreamManagement jsm = nc.jetStreamManagement();
      eventually("jobs 1 and 2 removed", () -> jsm.getStreamInfo("TRIM").getStreamState().getFirstSequence() == 3);
      // Job 4 is acknowledged but above the floor (job 3 is not): it stays until the floor passes it.
      assertEquals(8, jsm.getStreamInfo("TRIM").getStreamState().getMsgCount());
      batch.get(2).ackSync(WAIT);
      batch.get(4).ackSync(WAIT);
      eventually("jobs up to 5 removed", () -> jsm.getStreamInfo("TRIM").getStreamState().getMsgCount() == 5);
      assertEquals(6, jsm.getStreamInfo("TRIM").getStreamState().getFirstSequence());
      List<String> rest = new ArrayList<>();
      for (Message message : sub.fetch(10, Duration.ofSeconds(2))) {
        rest.add(text(message));
        message.ack();
      }
      assertEquals(List.of("job6", "job7", "job8", "job9", "job10"), rest, "nothing acknowledged came again");
    }
  }

  @Test
  void onlyOneConsumerMayTakeAWorkQueuesMessages() throws Exception {
    try (Connection nc = connect()) {
      workQueue(nc, "SOLE", "wq.sole", 1);
      JetStreamManagement jsm = nc.jetStreamManagement();
      jsm.addOrUpdateConsumer("SOLE", ConsumerConfiguration.builder().durable("first").build());
      JetStreamApiException second = assertThrows(JetStreamApiException.class,
          () -> jsm.addOrUpdateConsumer("SOLE", ConsumerConfiguration.builder().durable("second").build()));
      assertEquals(10099, second.getApiErrorCode());
      jsm.deleteConsumer("SOLE", "first");
      JetStreamApiException ackNone = assertThrows(JetStreamApiException.class, () -> jsm.addOrUpdateConsumer("SOLE",
          ConsumerConfiguration.builder().durable("lazy").ackPolicy(AckPolicy.None).build()));
      assertEquals(10098, ackNone.getApiErrorCode());
      jsm.addOrUpdateConsumer("SOLE", ConsumerConfiguration.builder().durable("again").build());
    }
  }

  @Test
  void onAWildcardWorkQueueConsumersWithDisjointFiltersMayCoexist() throws Exception {
    try (Connection nc = connect()) {
      workQueue(nc, "TASKS", "tasks.>", 0);
      JetStreamManagement jsm = nc.jetStreamManagement();
      jsm.addOrUpdateConsumer("TASKS", ConsumerConfiguration.builder().durable("eu").filterSubject("tasks.eu.>").build());
      jsm.addOrUpdateConsumer("TASKS", ConsumerConfiguration.builder().durable("us").filterSubject("tasks.us.>").build());
      JetStreamApiException overlapping = assertThrows(JetStreamApiException.class, () -> jsm.addOrUpdateConsumer(
          "TASKS", ConsumerConfiguration.builder().durable("any").filterSubject("tasks.*.x").build()));
      assertEquals(10100, overlapping.getApiErrorCode());
      nc.jetStream().publish("tasks.eu.a", "a".getBytes(StandardCharsets.UTF_8));
      nc.jetStream().publish("tasks.us.b", "b".getBytes(StandardCharsets.UTF_8));
      JetStreamSubscription eu = nc.jetStream().subscribe("tasks.eu.>", PullSubscribeOptions.bind("TASKS", "eu"));
      List<Message> got = eu.fetch(5, Duration.ofSeconds(2));
      assertEquals(List.of("a"), got.stream().map(WorkQueueTest::text).toList());
      assertEquals("tasks.eu.a", got.get(0).getSubject());
      got.get(0).ackSync(WAIT);
    }
  }
}
