package io.dstream.broker.admin;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.Subscription;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.ConsumerPauseResponse;
import io.nats.client.api.StreamConfiguration;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Operating JetStream consumers: jnats creates and consumes, the admin API (over HTTP) shows the numbers
 * and creates, deletes, pauses and resumes; pause through the JetStream API too, and a durable
 * consumer's pause across a restart.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class ConsumerOperationsTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final HttpClient HTTP = HttpClient.newHttpClient();
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
    return Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + broker.broker().natsPort())
        .token(TestBroker.API_KEY.toCharArray()).noReconnect().connectionTimeout(WAIT).build());
  }

  private static void stream(Connection nc, String name, String subject, int messages) throws Exception {
    nc.jetStreamManagement().addStream(StreamConfiguration.builder().name(name).subjects(subject).build());
    for (int i = 1; i <= messages; i++) {
      publish(nc, subject, "m" + i);
    }
  }

  private static void publish(Connection nc, String subject, String text) throws Exception {
    nc.jetStream().publish(subject, text.getBytes(StandardCharsets.UTF_8));
  }

  private static String text(Message message) {
    return new String(message.getData(), StandardCharsets.UTF_8);
  }

  /** An admin call; {@code key} null sends no credential. */
  private static HttpResponse<String> admin(String method, String path, String body, String key) throws Exception {
    HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + broker.port() + path))
        .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    if (key != null) {
      request.header("Authorization", "Bearer " + key);
    }
    return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private static JsonObject ok(String method, String path, String body) throws Exception {
    return expect(200, method, path, body);
  }

  private static JsonObject created(String stream, JsonObject body) throws Exception {
    return expect(201, "POST", "/admin/consumers/" + stream, body.encode());
  }

  private static JsonObject expect(int status, String method, String path, String body) throws Exception {
    HttpResponse<String> response = admin(method, path, body, TestBroker.API_KEY);
    assertEquals(status, response.statusCode(), method + " " + path + ": " + response.body());
    return new JsonObject(response.body());
  }

  private static JsonObject consumer(String stream, String name) throws Exception {
    return ok("GET", "/admin/consumers/" + stream + "/" + name, null);
  }

  /** Polls the admin view until {@code condition} holds (bounded by {@link #WAIT}). */
  private static JsonObject awaitConsumer(String stream, String name, Predicate<JsonObject> condition) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    JsonObject view = consumer(stream, name);
    while (!condition.test(view) && System.nanoTime() < deadline) {
      Thread.sleep(50);
      view = consumer(stream, name);
    }
    assertTrue(condition.test(view), "not reached: " + view.encode());
    return view;
  }

  private static void assertError(int status, String code, HttpResponse<String> response) {
    assertEquals(status, response.statusCode(), response.body());
    assertEquals(code, new JsonObject(response.body()).getJsonObject("error").getString("code"), response.body());
  }

  @Test
  void theAdminApiShowsPendingAckFloorRedeliveredWaitingAndLastActivity() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "OPS", "ops.orders", 5);
      long before = System.currentTimeMillis();
      nc.jetStreamManagement().addOrUpdateConsumer("OPS", ConsumerConfiguration.builder().durable("worker")
          .ackWait(Duration.ofMillis(800)).build());
      JetStreamSubscription sub = nc.jetStream().subscribe("ops.orders", PullSubscribeOptions.bind("OPS", "worker"));
      JsonObject fresh = consumer("OPS", "worker");
      assertEquals(5L, fresh.getLong("pending"), "nothing delivered yet");
      assertEquals(0L, fresh.getLong("lastActivityMs"));

      List<Message> first = sub.fetch(3, WAIT);
      assertEquals(List.of("m1", "m2", "m3"), first.stream().map(ConsumerOperationsTest::text).toList());
      first.get(0).ackSync(WAIT);
      JsonObject view = consumer("OPS", "worker");
      assertEquals("OPS", view.getString("stream"));
      assertEquals("ops.orders", view.getString("subject"));
      assertEquals("pull", view.getString("type"));
      assertTrue(view.getBoolean("durable"));
      assertEquals(3L, view.getLong("delivered"));
      assertEquals(2L, view.getLong("pending"), "m4 and m5 never sent");
      assertEquals(2L, view.getLong("ackPending"), "m2 and m3 not acked");
      assertEquals(1L, view.getLong("ackFloor"));
      assertEquals(0L, view.getLong("redelivered"));
      assertEquals(0L, view.getLong("waiting"));
      assertFalse(view.getBoolean("paused"));
      assertTrue(view.getLong("lastDeliveryMs") >= before);
      assertTrue(view.getLong("lastAckMs") >= view.getLong("lastDeliveryMs"), "the ack came after the deliveries");
      assertEquals(view.getLong("lastAckMs"), view.getLong("lastActivityMs"));
      assertEquals(800L, view.getJsonObject("config").getLong("ackWaitMs"));
      assertEquals("explicit", view.getJsonObject("config").getString("ackPolicy"));

      // JetStream's own consumer info carries the same last activity.
      ConsumerInfo info = nc.jetStreamManagement().getConsumerInfo("OPS", "worker");
      assertNotNull(info.getDelivered().getLastActive());
      assertEquals(view.getLong("lastAckMs"), info.getAckFloor().getLastActive().toInstant().toEpochMilli());

      // After the ack wait, m2 and m3 come again: each one a redelivery.
      List<Message> again = new ArrayList<>();
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (again.size() < 4 && System.nanoTime() < deadline) {
        for (Message message : sub.fetch(4 - again.size(), Duration.ofSeconds(1))) {
          message.ackSync(WAIT);
          again.add(message);
        }
      }
      long redelivered = again.stream().filter(m -> m.metaData().deliveredCount() > 1).count();
      assertEquals(2, redelivered, "m2 and m3 again");
      assertEquals(redelivered, consumer("OPS", "worker").getLong("redelivered"));
      JsonObject done = consumer("OPS", "worker");
      assertEquals(5L, done.getLong("ackFloor"));
      assertEquals(0L, done.getLong("ackPending"));
      assertEquals(0L, done.getLong("pending"));

      // A pull request that finds nothing waits, and shows as waiting until a message answers it.
      Subscription replies = nc.subscribe("_INBOX.ops.waiting");
      nc.publish("$JS.API.CONSUMER.MSG.NEXT.OPS.worker", "_INBOX.ops.waiting",
          new JsonObject().put("batch", 1).put("expires", WAIT.toNanos()).encode().getBytes(StandardCharsets.UTF_8));
      awaitConsumer("OPS", "worker", c -> c.getLong("waiting") == 1);
      publish(nc, "ops.orders", "m6");
      assertEquals("m6", text(replies.nextMessage(WAIT)));
      assertEquals(0L, awaitConsumer("OPS", "worker", c -> c.getLong("waiting") == 0).getLong("waiting"));
    }
  }

  @Test
  void pauseThroughTheJetStreamApiStopsAPushConsumerUntilResumed() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "PAUSEJS", "ops.pausejs", 1);
      JetStreamSubscription sub = nc.jetStream().subscribe("ops.pausejs", PushSubscribeOptions.builder()
          .stream("PAUSEJS").durable("pusher").build());
      Message m1 = sub.nextMessage(WAIT);
      assertEquals("m1", text(m1));
      m1.ack();
      JetStreamManagement jsm = nc.jetStreamManagement();
      ZonedDateTime until = ZonedDateTime.now(ZoneOffset.UTC).plusMinutes(10);
      ConsumerPauseResponse paused = jsm.pauseConsumer("PAUSEJS", "pusher", until);
      assertTrue(paused.isPaused());
      assertEquals(until.toInstant().toEpochMilli(), paused.getPauseUntil().toInstant().toEpochMilli());
      assertTrue(paused.getPauseRemaining().toMinutes() >= 9);
      ConsumerInfo info = jsm.getConsumerInfo("PAUSEJS", "pusher");
      assertTrue(info.getPaused());
      assertTrue(info.getPauseRemaining().toMinutes() >= 9);
      assertEquals(until.toInstant().toEpochMilli(), info.getConsumerConfiguration().getPauseUntil().toInstant()
          .toEpochMilli());

      publish(nc, "ops.pausejs", "m2");
      assertNull(sub.nextMessage(Duration.ofMillis(1500)), "a paused consumer delivers nothing");
      JsonObject view = consumer("PAUSEJS", "pusher");
      assertTrue(view.getBoolean("paused"));
      assertEquals(until.toInstant().toEpochMilli(), Instant.parse(view.getString("pauseUntil")).toEpochMilli());
      assertEquals(1L, view.getLong("pending"));

      assertTrue(jsm.resumeConsumer("PAUSEJS", "pusher"));
      assertEquals("m2", text(sub.nextMessage(WAIT)), "resumed: the held message comes");
      assertFalse(jsm.getConsumerInfo("PAUSEJS", "pusher").getPaused());
    }
  }

  @Test
  void pauseThroughTheAdminApiHoldsPullRequestsAndEndsByItself() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "PAUSEADM", "ops.pauseadm", 0);
      JsonObject created = created("PAUSEADM", new JsonObject().put("name", "slow").put("ackWaitMs", 30_000));
      assertEquals("pull", created.getString("type"));
      assertEquals(30_000L, created.getJsonObject("config").getLong("ackWaitMs"));
      JetStreamSubscription sub = nc.jetStream().subscribe("ops.pauseadm", PullSubscribeOptions.bind("PAUSEADM", "slow"));
      publish(nc, "ops.pauseadm", "m1");

      JsonObject paused = ok("POST", "/admin/consumers/PAUSEADM/slow/pause", "{\"forMs\":600000}");
      assertTrue(paused.getBoolean("paused"));
      assertTrue(paused.getLong("pauseRemainingMs") > 590_000);
      assertTrue(sub.fetch(1, Duration.ofMillis(1000)).isEmpty(), "a pull request to a paused consumer times out");
      assertFalse(ok("POST", "/admin/consumers/PAUSEADM/slow/resume", null).getBoolean("paused"));
      assertEquals(List.of("m1"), sub.fetch(1, WAIT).stream().map(ConsumerOperationsTest::text).toList());

      // A pause that ends by itself: the waiting pull request is answered once it is over.
      String until = Instant.now().plusMillis(1500).toString();
      assertTrue(ok("POST", "/admin/consumers/PAUSEADM/slow/pause", new JsonObject().put("until", until).encode())
          .getBoolean("paused"));
      publish(nc, "ops.pauseadm", "m2");
      List<Message> later = sub.fetch(1, WAIT);
      assertEquals(List.of("m2"), later.stream().map(ConsumerOperationsTest::text).toList());
      assertTrue(System.currentTimeMillis() >= Instant.parse(until).toEpochMilli(), "not before the pause ended");
      assertFalse(consumer("PAUSEADM", "slow").getBoolean("paused"));
    }
  }

  @Test
  void aDurableConsumersPauseSurvivesARestart() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "SLEEP", "ops.sleep", 1);
      created("SLEEP", new JsonObject().put("name", "sleeper"));
      nc.jetStreamManagement().pauseConsumer("SLEEP", "sleeper", ZonedDateTime.now(ZoneOffset.UTC).plusMinutes(10));
    }
    broker.stop();
    broker.restart();
    try (Connection nc = connect()) {
      JsonObject view = consumer("SLEEP", "sleeper");
      assertTrue(view.getBoolean("paused"), view.encode());
      assertTrue(nc.jetStreamManagement().getConsumerInfo("SLEEP", "sleeper").getPaused());
      JetStreamSubscription sub = nc.jetStream().subscribe("ops.sleep", PullSubscribeOptions.bind("SLEEP", "sleeper"));
      assertTrue(sub.fetch(1, Duration.ofMillis(1000)).isEmpty(), "still paused after the restart");
      ok("POST", "/admin/consumers/SLEEP/sleeper/resume", null);
      assertEquals(List.of("m1"), sub.fetch(1, WAIT).stream().map(ConsumerOperationsTest::text).toList());
    }
  }

  @Test
  void createListDeleteAndRefusals() throws Exception {
    try (Connection nc = connect()) {
      stream(nc, "ADMA", "ops.a", 3);
      stream(nc, "ADMB", "ops.b", 0);
      JsonObject push = created("ADMA", new JsonObject().put("name", "pusher")
          .put("deliverSubject", "deliver.a").put("ackPolicy", "all").put("maxDeliver", 3).put("maxAckPending", 10)
          .put("deliverPolicy", "by_start_sequence").put("startSequence", 2).put("filterSubject", "ops.a"));
      assertEquals("push", push.getString("type"));
      JsonObject config = push.getJsonObject("config");
      assertEquals("deliver.a", config.getString("deliverSubject"));
      assertEquals("all", config.getString("ackPolicy"));
      assertEquals(3L, config.getLong("maxDeliver"));
      assertEquals(10L, config.getLong("maxAckPending"));
      assertEquals(2L, config.getLong("startSequence"));
      Subscription deliveries = nc.subscribe("deliver.a");
      Message second = deliveries.nextMessage(WAIT);
      assertEquals("m2", text(second), "starts at sequence 2");
      created("ADMB", new JsonObject().put("name", "b1"));
      nc.jetStreamManagement().addOrUpdateConsumer("ADMA", ConsumerConfiguration.builder().durable("apull").build());

      JsonArray all = ok("GET", "/admin/consumers", null).getJsonArray("consumers");
      List<String> names = new ArrayList<>();
      all.forEach(c -> names.add(((JsonObject) c).getString("stream") + "/" + ((JsonObject) c).getString("name")));
      assertTrue(names.containsAll(List.of("ADMA/apull", "ADMA/pusher", "ADMB/b1")), names.toString());
      assertTrue(names.indexOf("ADMA/apull") < names.indexOf("ADMA/pusher"));
      assertTrue(names.indexOf("ADMA/pusher") < names.indexOf("ADMB/b1"));
      assertEquals(1, ok("GET", "/admin/consumers?stream=ADMB", null).getJsonArray("consumers").size());
      // Pages of one join into the whole listing, across the streams' boundary, each with the total.
      List<String> paged = new ArrayList<>();
      for (int offset = 0; offset <= all.size(); offset++) {
        JsonObject page = ok("GET", "/admin/consumers?limit=1&offset=" + offset, null);
        assertEquals(all.size(), page.getInteger("total"));
        page.getJsonArray("consumers").forEach(c -> paged.add(((JsonObject) c).getString("stream") + "/"
            + ((JsonObject) c).getString("name")));
      }
      assertEquals(names, paged);

      String key = TestBroker.API_KEY;
      assertError(409, "consumer_exists", admin("POST", "/admin/consumers/ADMB", "{\"name\":\"b1\"}", key));
      assertError(400, "invalid_argument", admin("POST", "/admin/consumers/ADMB", "{\"name\":\"x\",\"colour\":1}", key));
      assertError(400, "invalid_argument", admin("POST", "/admin/consumers/ADMB", "{\"ackPolicy\":\"all\"}", key));
      assertError(400, "invalid_argument", admin("POST", "/admin/consumers/ADMB", "{\"name\":\"x\",\"maxDeliver\":\"3\"}",
          key));
      assertError(400, "invalid_consumer", admin("POST", "/admin/consumers/ADMB", "{\"name\":\"x\",\"ackPolicy\":\"some\"}",
          key));
      assertError(400, "invalid_consumer", admin("POST", "/admin/consumers/ADMB", "{\"name\":\"a.b\"}", key));
      assertError(400, "invalid_consumer", admin("POST", "/admin/consumers/ADMB",
          "{\"name\":\"x\",\"filterSubject\":\"ops.other\"}", key));
      assertError(400, "invalid_json", admin("POST", "/admin/consumers/ADMB", "not json", key));
      assertError(404, "not_found", admin("POST", "/admin/consumers/NOPE", "{\"name\":\"x\"}", key));
      assertError(404, "not_found", admin("GET", "/admin/consumers?stream=NOPE", null, key));
      assertError(404, "not_found", admin("GET", "/admin/consumers/ADMB/nobody", null, key));
      assertError(400, "invalid_argument", admin("POST", "/admin/consumers/ADMB/b1/pause",
          "{\"forMs\":1000,\"until\":\"2030-01-01T00:00:00Z\"}", key));
      assertError(400, "invalid_argument", admin("POST", "/admin/consumers/ADMB/b1/pause", "{\"forMs\":0}", key));
      assertError(400, "invalid_argument", admin("POST", "/admin/consumers/ADMB/b1/pause", "{\"until\":\"soon\"}", key));
      assertError(400, "invalid_argument", admin("GET", "/admin/consumers?limit=0", null, key));
      assertError(400, "invalid_argument", admin("GET", "/admin/consumers?offset=-1", null, key));
      assertEquals(401, admin("GET", "/admin/consumers", null, null).statusCode());
      assertEquals(401, admin("POST", "/admin/consumers/ADMB/b1/pause", "{\"forMs\":1000}", "wrong").statusCode());

      assertEquals(new JsonObject().put("stream", "ADMB").put("name", "b1").put("deleted", true),
          ok("DELETE", "/admin/consumers/ADMB/b1", null));
      assertError(404, "not_found", admin("GET", "/admin/consumers/ADMB/b1", null, key));
      assertTrue(nc.jetStreamManagement().getConsumerNames("ADMB").isEmpty(), "gone for the JetStream API too");
    }
  }
}
