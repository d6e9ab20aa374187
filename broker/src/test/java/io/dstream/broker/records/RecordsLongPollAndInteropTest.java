package io.dstream.broker.records;

import io.dstream.broker.TestBroker;
import io.dstream.broker.records.RecordsApiTest.RecordsClient;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.dstream.broker.records.RecordsApiTest.offsets;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Long-polls wake on a durable write from either view; WebSocket v1 and the records API see the
 * same log; DELETE destroys a subject for both.
 */
class RecordsLongPollAndInteropTest {

  /** Far above any wake-up: a long-poll answering before it proves it was woken, not timed out. */
  private static final int LONG_POLL_SECONDS = 60;
  private static final int MAX_WAITERS = 2;
  private static final Pattern WAITERS = Pattern.compile("(?m)^dstream_long_poll_waiters (\\S+)$");
  private static Vertx vertx;
  private static TestBroker broker;
  private static RecordsClient client;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.longPollTimeout(Duration.ofSeconds(LONG_POLL_SECONDS))
        .maxLongPollWaiters(MAX_WAITERS));
    client = new RecordsClient(WebClient.create(vertx), broker);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static Future<HttpResponse<Buffer>> longPoll(String subject, String query) {
    return client.request(HttpMethod.GET, subject, query + "&timeout_sec=" + LONG_POLL_SECONDS).send();
  }

  /** Waits (bounded) until the broker counts {@code expected} long-polls in progress. */
  private static void awaitWaiters(int expected) throws InterruptedException {
    long deadline = System.currentTimeMillis() + 10_000;
    double waiters = -1;
    while (System.currentTimeMillis() < deadline) {
      String metrics = client.web.get(broker.port(), "127.0.0.1", "/metrics").putHeader("auth", TestBroker.API_KEY)
          .send().await().bodyAsString();
      Matcher matcher = WAITERS.matcher(metrics);
      waiters = matcher.find() ? Double.parseDouble(matcher.group(1)) : -1;
      if (waiters == expected) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("expected " + expected + " long-polls waiting, the broker counts " + waiters);
  }

  private static HttpResponse<Buffer> answered(Future<HttpResponse<Buffer>> poll) throws Exception {
    return poll.toCompletionStage().toCompletableFuture().get(LONG_POLL_SECONDS / 2, TimeUnit.SECONDS);
  }

  @Test
  void aLongPollIsAnsweredByAWebSocketPublishLongBeforeItsTimeout() throws Exception {
    String subject = RecordsApiTest.freshSubject();
    try (V1TestClient ws = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
      assertEquals(1L, ws.request("before").getLong("sequence"));
      Future<HttpResponse<Buffer>> poll = longPoll(subject, "offset=1");
      awaitWaiters(1);
      ws.sendRaw("{\"data\":{\"n\":0.1000000000000000055511151231257827},\"cMsgId\":7,\"clientId\":3}");
      HttpResponse<Buffer> response = answered(poll);
      assertEquals(List.of("2"), offsets(response));
      assertTrue(response.bodyAsString().contains("\"data\":{\"n\":0.1000000000000000055511151231257827}"),
          "a v1 message reads as its data, byte for byte: " + response.bodyAsString());
      awaitWaiters(0);
    }
  }

  @Test
  void aLongPollWithoutOffsetGetsOnlyWhatIsWrittenAfterItAndWakesOnAnHttpPost() throws Exception {
    String subject = RecordsApiTest.freshSubject();
    client.postRecords(subject, "", new JsonArray().add("old"));
    Future<HttpResponse<Buffer>> poll = longPoll(subject, "limit=5");
    awaitWaiters(1);
    client.postRecords(subject, "", new JsonArray().add("new1").add("new2"));
    HttpResponse<Buffer> response = answered(poll);
    assertEquals(List.of("2", "3"), offsets(response));
    assertEquals("new1", response.bodyAsJsonObject().getJsonArray("records").getJsonObject(0).getString("data"));
    awaitWaiters(0);
  }

  @Test
  void longPollsBeyondTheWaiterBoundAre503() throws Exception {
    String subject = RecordsApiTest.freshSubject();
    Future<HttpResponse<Buffer>> first = longPoll(subject, "offset=-");
    Future<HttpResponse<Buffer>> second = longPoll(subject, "offset=-");
    awaitWaiters(MAX_WAITERS);
    HttpResponse<Buffer> refused = longPoll(subject, "offset=-").await();
    RecordsApiTest.assertError(refused, 503, "too_many_waiters");
    assertEquals("1", refused.getHeader("Retry-After"));
    assertEquals(200, client.get(subject, "offset=-").statusCode(), "reads without timeout_sec are not bounded by it");
    client.postRecords(subject, "", new JsonArray().add("wake"));
    assertEquals(List.of("1"), offsets(answered(first)));
    assertEquals(List.of("1"), offsets(answered(second)));
    awaitWaiters(0);
  }

  @Test
  void aClientThatDisconnectsWhileWaitingFreesItsWaiterSlotAtOnce() throws Exception {
    String subject = RecordsApiTest.freshSubject();
    HttpClient impatient = vertx.createHttpClient();
    try {
      HttpClientRequest request = impatient.request(HttpMethod.GET, broker.port(), "127.0.0.1",
          "/stream/" + subject + "?offset=-&timeout_sec=" + LONG_POLL_SECONDS).await();
      request.putHeader("auth", TestBroker.API_KEY).send();
      awaitWaiters(1);
      request.connection().close().await();
      awaitWaiters(0);
    } finally {
      impatient.close().await();
    }
    client.postRecords(subject, "", new JsonArray().add("still works"));
    assertEquals(List.of("1"), offsets(client.get(subject, "offset=-")));
  }

  @Test
  void recordsPostedOverHttpArePushedToWebSocketSubscribersAsV1Messages() {
    String subject = RecordsApiTest.freshSubject();
    client.post(subject, "", "{\"records\":[{\"k\":1.50},\"text\"]}");
    try (V1TestClient ws = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
      ws.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      String raw = V1TestClient.take(ws.pushes, 10);
      assertTrue(raw.startsWith("{\"data\":{\"k\":1.50},\"cMsgId\":null,\"clientId\":null,\"ip\":\"127.0.0.1\",\"sequence\":1,"),
          raw);
      JsonObject first = new JsonObject(raw);
      ws.ack(first);
      JsonObject second = ws.nextPush();
      assertEquals("text", second.getString("data"));
      assertEquals(2L, second.getLong("sequence"));
      ws.ack(second);
      client.postRecords(subject, "", new JsonArray().add("live"));
      JsonObject live = ws.nextPush();
      assertEquals("live", live.getString("data"));
      assertEquals(3L, live.getLong("sequence"));
      assertEquals(3L, ws.command("getStreamInfo").getJsonObject("stream").getLong("lastSequence"));
    }
  }

  @Test
  void deleteDestroysTheSubjectForBothViewsAndItStartsAgainAtOne() throws Exception {
    String subject = RecordsApiTest.freshSubject();
    client.postRecords(subject, "version=9", new JsonArray().add(1).add(2).add(3));
    try (V1TestClient subscriber = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
      subscriber.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("k", 1)));
      subscriber.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      subscriber.nextPush();
      Future<HttpResponse<Buffer>> poll = longPoll(subject, "offset=3");
      awaitWaiters(1);

      HttpResponse<Buffer> deleted = client.delete(subject);
      assertEquals(204, deleted.statusCode(), deleted.bodyAsString());
      assertEquals(List.of(), offsets(answered(poll)), "a waiting long-poll is answered empty");
      assertEquals(Short.valueOf((short) 4410), subscriber.closed.get(10, TimeUnit.SECONDS),
          "subscribers are closed: their positions refer to the destroyed log");
    }
    assertEquals(List.of(), offsets(client.get(subject, "offset=-")));
    assertEquals(new JsonObject().put("offsets", new JsonArray().add("1")),
        client.postRecords(subject, "version=0", new JsonArray().add("fresh")).bodyAsJsonObject(),
        "sequences start at 1 again and the producer version is gone");
    try (V1TestClient ws = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
      assertEquals(new JsonObject(), ws.command("getState").getJsonObject("state"), "the state is gone");
      assertEquals(2L, ws.request("after delete").getLong("sequence"));
    }
    assertEquals(List.of("1", "2"), offsets(client.get(subject, "offset=-")));
    assertEquals(204, client.delete(RecordsApiTest.freshSubject()).statusCode(), "deleting an unknown subject is fine");
  }

  @Test
  void aDeletedSubjectStaysDeletedAcrossARestart() throws Exception {
    try (TestBroker restarted = TestBroker.start(vertx, b -> b)) {
      RecordsClient own = new RecordsClient(client.web, restarted);
      own.postRecords("gone.after.restart", "version=4", new JsonArray().add("a").add("b"));
      own.postRecords("kept.after.restart", "", new JsonArray().add("k"));
      assertEquals(204, own.delete("gone.after.restart").statusCode());
      restarted.stop();
      restarted.restart();
      own = new RecordsClient(client.web, restarted);
      assertEquals(List.of(), offsets(own.get("gone.after.restart", "offset=-")));
      assertEquals(List.of("1"), offsets(own.get("kept.after.restart", "offset=-")));
      HttpResponse<Buffer> fresh = own.postRecords("gone.after.restart", "version=1", new JsonArray().add("c"));
      assertEquals(new JsonObject().put("offsets", new JsonArray().add("1")), fresh.bodyAsJsonObject());
    }
  }

  @Test
  void requestsQueuedBehindADeleteRunAfterItInOrder() {
    String subject = RecordsApiTest.freshSubject();
    client.postRecords(subject, "", new JsonArray().add("x").add("y"));
    Future<HttpResponse<Buffer>> delete = client.request(HttpMethod.DELETE, subject, "").send();
    Future<HttpResponse<Buffer>> post = client.request(HttpMethod.POST, subject, "")
        .sendBuffer(Buffer.buffer("{\"records\":[\"z\"]}"));
    Future.all(delete, post).await();
    assertEquals(204, delete.result().statusCode());
    JsonArray offsets = post.result().bodyAsJsonObject().getJsonArray("offsets");
    List<String> log = offsets(client.get(subject, "offset=-"));
    if ("1".equals(offsets.getString(0))) {
      assertEquals(List.of("1"), log, "the post ran after the delete");
    } else {
      assertEquals("3", offsets.getString(0));
      assertEquals(List.of(), log, "the post ran before the delete and went with it");
    }
    assertFalse(log.contains("2"));
  }
}
