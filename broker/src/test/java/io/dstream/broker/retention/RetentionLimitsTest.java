package io.dstream.broker.retention;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.dstream.broker.config.RetentionSettings;
import io.dstream.broker.ws.V1TestClient;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.DiscardPolicy;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Retention limits over real sockets: the sweeper deletes by age (with a clock the test moves), by
 * count and by bytes, from the H2 store (the admin API's numbers are the store's committed record);
 * discard new and the message size are refused on protocol v1, the records API and NATS with the
 * limit named, and nothing is stored; a changed limit reaches existing and hibernated subjects; the
 * rules survive a restart.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException
class RetentionLimitsTest {

  private static final long POLL_MS = 20_000;

  private Vertx vertx;
  private TestBroker broker;
  private WebClient http;
  private final MovableClock clock = new MovableClock();

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.clock(clock).idleTimeout(Duration.ofMillis(300))
        .nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT))
        .retention(new RetentionSettings(Limits.UNLIMITED, Duration.ofMillis(50), 1000, 10_000, 1000,
            Duration.ofSeconds(1))));
    http = WebClient.create(vertx);
  }

  @AfterEach
  void stop() {
    broker.close();
    vertx.close().await();
  }

  // ---- deleting old messages ------------------------------------------------------------------

  @Test
  void messagesOlderThanTheAgeLimitLeaveTheStore() {
    putRule("age.>", new JsonObject().put("maxAgeMs", 60_000));
    post("age.orders", 3);
    clock.advanceMs(30_000);
    post("age.orders", 2);
    assertEquals(5, subject("age.orders").getLong("messages"), "nothing is a minute old yet");

    clock.advanceMs(31_000);
    JsonObject swept = awaitSubject("age.orders", s -> s.getLong("firstSequence") == 4);
    assertEquals(2, swept.getLong("messages"));
    assertEquals(5, swept.getLong("lastSequence"));

    clock.advanceMs(30_000);
    JsonObject empty = awaitSubject("age.orders", s -> s.getLong("messages") == 0);
    assertEquals(6, empty.getLong("firstSequence"));
    assertEquals(0, empty.getLong("bytes"));
  }

  @Test
  void aCountLimitTrimsAtAppendAndAChangedLimitReachesExistingSubjects() {
    post("count.orders", 10);
    putRule("count.>", new JsonObject().put("maxMessages", 3));
    JsonObject swept = awaitSubject("count.orders", s -> s.getLong("messages") == 3);
    assertEquals(8, swept.getLong("firstSequence"));

    post("count.orders", 2);
    JsonObject trimmed = subject("count.orders");
    assertEquals(3, trimmed.getLong("messages"), "trimmed in the same batch as the appends");
    assertEquals(10, trimmed.getLong("firstSequence"));

    putRule("count.>", new JsonObject().put("maxMessages", 1));
    assertEquals(12, awaitSubject("count.orders", s -> s.getLong("messages") == 1).getLong("firstSequence"));
  }

  @Test
  void aByteLimitDeletesTheOldestMessagesBeyondIt() {
    post("bytes.orders", 8);
    long all = subject("bytes.orders").getLong("bytes");
    long limit = all / 2;
    putRule("bytes.orders", new JsonObject().put("maxBytes", limit));
    JsonObject swept = awaitSubject("bytes.orders", s -> s.getLong("bytes") <= limit);
    assertEquals(4, swept.getLong("messages"), "equal-sized messages: half of them fit " + swept);
    assertEquals(5, swept.getLong("firstSequence"));
  }

  @Test
  void aHibernatedSubjectIsSweptWithoutAnyoneTouchingIt() throws Exception {
    post("sleepy.orders", 5);
    long deadline = System.currentTimeMillis() + POLL_MS;
    while (metric("dstream_actors_hibernated_total") < 1 && System.currentTimeMillis() < deadline) {
      Thread.sleep(50);
    }
    assertTrue(metric("dstream_actors_hibernated_total") >= 1, "the subject's actor never hibernated");
    putRule("sleepy.*", new JsonObject().put("maxMessages", 2));
    assertEquals(4, awaitSubject("sleepy.orders", s -> s.getLong("messages") == 2).getLong("firstSequence"));
  }

  // ---- refusing new messages ------------------------------------------------------------------

  @Test
  void discardNewRefusesOnEverySurfaceNamingTheLimitAndStoresNothing() throws Exception {
    putRule("full.>", new JsonObject().put("maxMessages", 2).put("discard", "new"));

    try (V1TestClient v1 = V1TestClient.connect(vertx, broker.port(), "full.v1", TestBroker.API_KEY)) {
      v1.request("one");
      v1.request("two");
      JsonObject error = v1.request("three").getJsonObject("error");
      assertEquals("limit_reached", error.getString("code"));
      assertEquals("subject 'full.v1' is at its limit of 2 messages (rule 'full.>', discard new)",
          error.getString("message"));
    }
    assertEquals(2, subject("full.v1").getLong("lastSequence"));

    post("full.http", 2);
    HttpResponse<Buffer> refused = records("full.http", "{\"records\":[\"three\"]}");
    assertEquals(409, refused.statusCode());
    assertEquals("limit_reached", refused.bodyAsJsonObject().getJsonObject("error").getString("code"));
    assertEquals(2, subject("full.http").getLong("lastSequence"));

    try (Connection nats = nats()) {
      JetStream js = nats.jetStream();
      js.publish("full.nats", bytes("one"));
      js.publish("full.nats", bytes("two"));
      JetStreamApiException e = assertThrows(JetStreamApiException.class, () -> js.publish("full.nats", bytes("three")));
      assertEquals(10077, e.getApiErrorCode());
      assertTrue(e.getMessage().contains("subject 'full.nats' is at its limit of 2 messages (rule 'full.>', discard new)"),
          e.getMessage());
    }
    assertEquals(2, subject("full.nats").getLong("lastSequence"));

    putRule("full.>", new JsonObject().put("maxBytes", 1).put("discard", "new"));
    HttpResponse<Buffer> full = records("full.bytes", "{\"records\":[\"x\"]}");
    assertEquals(409, full.statusCode());
    assertTrue(full.bodyAsJsonObject().getJsonObject("error").getString("message")
        .startsWith("subject 'full.bytes' is at its limit of 1 bytes"), full.bodyAsString());
  }

  @Test
  void aMessageOverTheSizeLimitIsRefusedOnEverySurface() throws Exception {
    putRule("size.>", new JsonObject().put("maxMessageSize", 200));
    String big = "x".repeat(300);
    try (V1TestClient v1 = V1TestClient.connect(vertx, broker.port(), "size.v1", TestBroker.API_KEY)) {
      v1.request("small");
      JsonObject error = v1.request(big).getJsonObject("error");
      assertEquals("message_too_large", error.getString("code"));
      assertTrue(error.getString("message").contains("exceeds the limit of 200 bytes per message on subject 'size.v1'"
          + " (rule 'size.>')"), error.getString("message"));
    }
    assertEquals(1, subject("size.v1").getLong("lastSequence"));

    HttpResponse<Buffer> tooLarge = records("size.http", "{\"records\":[\"small\",\"" + big + "\"]}");
    assertEquals(413, tooLarge.statusCode());
    assertEquals("message_too_large", tooLarge.bodyAsJsonObject().getJsonObject("error").getString("code"));
    assertEquals(404, http.get(broker.port(), "127.0.0.1", "/admin/subjects/size.http").bearerTokenAuthentication(
        TestBroker.API_KEY).send().await().statusCode(), "the whole POST was refused, the small record too");

    try (Connection nats = nats()) {
      JetStreamApiException e = assertThrows(JetStreamApiException.class,
          () -> nats.jetStream().publish("size.nats", bytes(big)));
      assertEquals(10054, e.getApiErrorCode());
    }
  }

  // ---- the JetStream stream config ------------------------------------------------------------

  @Test
  void aJetStreamStreamConfigIsTheRuleOfItsSubjectAndInfoReportsWhatIsInForce() throws Exception {
    try (Connection nats = nats()) {
      JetStreamManagement jsm = nats.jetStreamManagement();
      StreamInfo created = jsm.addStream(StreamConfiguration.builder().name("LIMITED").subjects("js.limited")
          .maxMessages(2).maxBytes(1_000_000).maximumMessageSize(500).maxAge(Duration.ofHours(1))
          .discardPolicy(DiscardPolicy.New).build());
      assertEquals(2, created.getConfiguration().getMaxMsgs());
      assertEquals(1_000_000, created.getConfiguration().getMaxBytes());
      assertEquals(500, created.getConfiguration().getMaximumMessageSize());
      assertEquals(Duration.ofHours(1), created.getConfiguration().getMaxAge());
      assertEquals(DiscardPolicy.New, created.getConfiguration().getDiscardPolicy());
      JsonObject rule = rules().getJsonArray("rules").getJsonObject(0);
      assertEquals("js.limited", rule.getString("pattern"));
      assertEquals(3_600_000, rule.getLong("maxAgeMs"));

      JetStream js = nats.jetStream();
      js.publish("js.limited", bytes("1"));
      js.publish("js.limited", bytes("2"));
      assertEquals(10077, assertThrows(JetStreamApiException.class, () -> js.publish("js.limited", bytes("3")))
          .getApiErrorCode());

      jsm.updateStream(StreamConfiguration.builder(created.getConfiguration()).maxMessages(-1).maxBytes(-1)
          .maximumMessageSize(-1).maxAge(Duration.ZERO).discardPolicy(DiscardPolicy.Old).build());
      assertEquals(0, rules().getJsonArray("rules").size(), "a stream without limits has no rule of its own");
      putRule("js.>", new JsonObject().put("maxMessages", 7));
      assertEquals(7, jsm.getStreamInfo("LIMITED").getConfiguration().getMaxMsgs(), "a wider rule in force");
      assertEquals(3, js.publish("js.limited", bytes("3")).getSeqno());
    }
  }

  // ---- the rules themselves -------------------------------------------------------------------

  @Test
  void rulesSurviveARestartAndBadInputIsA400() {
    putRule("keep.>", new JsonObject().put("maxAgeMs", 1000).put("maxMessages", 5).put("discard", "new"));
    putRule("keep.eu", new JsonObject().put("maxBytes", 4096));
    broker.stop();
    broker.restart();

    JsonObject listed = rules();
    assertEquals(new JsonObject().put("maxAgeMs", 0).put("maxMessages", 0).put("maxBytes", 0)
        .put("maxMessageSize", 0).put("discard", "old"), listed.getJsonObject("default"));
    JsonArray rules = listed.getJsonArray("rules");
    assertEquals("keep.eu", rules.getJsonObject(0).getString("pattern"), "the most specific first");
    assertEquals(5, rules.getJsonObject(1).getLong("maxMessages"));
    assertEquals("new", rules.getJsonObject(1).getString("discard"));

    post("keep.eu", 1);
    JsonObject limits = subject("keep.eu").getJsonObject("limits");
    assertEquals("keep.eu", limits.getString("rule"));
    assertEquals(4096, limits.getLong("maxBytes"));
    post("keep.us", 1);
    assertEquals("keep.>", subject("keep.us").getJsonObject("limits").getString("rule"));

    assertError(put("keep.>", "{\"maxMessages\":-1}"), 400, "invalid_limits");
    assertError(put("keep.>", "{\"maxMesages\":1}"), 400, "invalid_limits");
    assertError(put("keep.>", "{\"discard\":\"oldest\"}"), 400, "invalid_limits");
    assertError(put("keep.>", "not json"), 400, "invalid_json");
    assertError(put("a.>.b", "{}"), 400, "invalid_pattern");
    assertError(put("$DS.JS.STREAMS", "{\"maxMessages\":1}"), 400, "invalid_pattern");
    assertError(http.delete(broker.port(), "127.0.0.1", "/admin/retention/nothing.here")
        .bearerTokenAuthentication(TestBroker.API_KEY).send().await(), 404, "not_found");

    assertEquals(200, http.delete(broker.port(), "127.0.0.1", "/admin/retention/keep.eu")
        .bearerTokenAuthentication(TestBroker.API_KEY).send().await().statusCode());
    assertEquals("keep.>", subject("keep.eu").getJsonObject("limits").getString("rule"));
  }

  /** Changes run one after another on the rules' leader (here, on a single node): concurrent ones lose none. */
  @Test
  void concurrentChangesLoseNoneOfEachOther() {
    putRule("race.gone", new JsonObject().put("maxMessages", 1));
    List<Future<HttpResponse<Buffer>>> sent = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      sent.add(http.put(broker.port(), "127.0.0.1", "/admin/retention/race." + i)
          .bearerTokenAuthentication(TestBroker.API_KEY).sendBuffer(Buffer.buffer("{\"maxMessages\":" + (i + 1) + "}")));
    }
    sent.add(http.delete(broker.port(), "127.0.0.1", "/admin/retention/race.gone")
        .bearerTokenAuthentication(TestBroker.API_KEY).send());
    for (Future<HttpResponse<Buffer>> response : sent) {
      assertEquals(200, response.await().statusCode(), response.await().bodyAsString());
    }
    broker.stop();
    broker.restart();
    JsonArray rules = rules().getJsonArray("rules");
    assertEquals(20, rules.size(), rules.encode());
    for (int i = 0; i < 20; i++) {
      post("race." + i, 1);
      assertEquals(i + 1, subject("race." + i).getJsonObject("limits").getLong("maxMessages"));
    }
  }

  // ---- helpers --------------------------------------------------------------------------------

  private void putRule(String pattern, JsonObject limits) {
    HttpResponse<Buffer> response = put(pattern, limits.encode());
    assertEquals(200, response.statusCode(), response.bodyAsString());
  }

  private HttpResponse<Buffer> put(String pattern, String body) {
    return http.put(broker.port(), "127.0.0.1", "/admin/retention/" + encode(pattern))
        .bearerTokenAuthentication(TestBroker.API_KEY).sendBuffer(Buffer.buffer(body)).await();
  }

  private JsonObject rules() {
    return http.get(broker.port(), "127.0.0.1", "/admin/retention").bearerTokenAuthentication(TestBroker.API_KEY)
        .send().await().bodyAsJsonObject();
  }

  private static String encode(String pattern) {
    return java.net.URLEncoder.encode(pattern, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private void post(String subject, int count) {
    JsonArray records = new JsonArray();
    for (int i = 0; i < count; i++) {
      records.add("message");
    }
    HttpResponse<Buffer> response = records(subject, new JsonObject().put("records", records).encode());
    assertEquals(200, response.statusCode(), response.bodyAsString());
  }

  private HttpResponse<Buffer> records(String subject, String body) {
    return http.post(broker.port(), "127.0.0.1", "/stream/" + subject).putHeader("auth", TestBroker.API_KEY)
        .sendBuffer(Buffer.buffer(body)).await();
  }

  /** The subject as the store committed it (the admin API reads the H2 record). */
  private JsonObject subject(String subject) {
    HttpResponse<Buffer> response = http.get(broker.port(), "127.0.0.1", "/admin/subjects/" + subject)
        .bearerTokenAuthentication(TestBroker.API_KEY).send().await();
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject();
  }

  private JsonObject awaitSubject(String subject, Predicate<JsonObject> condition) {
    long deadline = System.currentTimeMillis() + POLL_MS;
    JsonObject seen = subject(subject);
    while (!condition.test(seen) && System.currentTimeMillis() < deadline) {
      sleep();
      seen = subject(subject);
    }
    assertTrue(condition.test(seen), "the sweeper did not get there: " + seen);
    return seen;
  }

  private double metric(String name) {
    String body = http.get(broker.port(), "127.0.0.1", "/metrics").bearerTokenAuthentication(TestBroker.API_KEY)
        .send().await().bodyAsString();
    java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$")
        .matcher(body);
    assertTrue(m.find(), name + " missing from /metrics");
    return Double.parseDouble(m.group(1));
  }

  private static void assertError(HttpResponse<Buffer> response, int status, String code) {
    assertEquals(status, response.statusCode(), response.bodyAsString());
    assertEquals(code, response.bodyAsJsonObject().getJsonObject("error").getString("code"), response.bodyAsString());
  }

  private Connection nats() throws Exception {
    return Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + broker.broker().natsPort())
        .token(TestBroker.API_KEY.toCharArray()).noReconnect().connectionTimeout(Duration.ofSeconds(10)).build());
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  private static void sleep() {
    try {
      Thread.sleep(50);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
