package io.dstream.broker.admin;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admin routes the web console is built on, over a real socket: prefix search with paging,
 * subscriber counts and consumer windows, reading from a time, replacing state, deleting up to a
 * sequence, and the overview's numbers from the broker's meters.
 */
class AdminConsoleRoutesTest {

  private static Vertx vertx;
  private static TestBroker broker;
  private static WebClient web;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx);
    web = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() {
    web.close();
    broker.close();
    vertx.close().await();
  }

  private static HttpResponse<Buffer> send(HttpMethod method, String uri, String body) {
    var request = web.request(method, broker.port(), "127.0.0.1", uri)
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY);
    return (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))).await();
  }

  private static JsonObject get(String uri) {
    HttpResponse<Buffer> response = send(HttpMethod.GET, uri, null);
    assertEquals(200, response.statusCode(), response.bodyAsString());
    return response.bodyAsJsonObject();
  }

  private static void publish(String subject, int count) {
    try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
      for (int i = 1; i <= count; i++) {
        client.request(new JsonObject().put("n", i));
      }
    }
  }

  @Test
  void prefixSearchPagesThroughExactlyTheSubjectsUnderThePrefix() {
    for (String subject : List.of("shop", "shop.eu", "shop.eu.paris", "shop.us", "shopping", "shoe", "shopx.a")) {
      publish(subject, 1);
    }
    List<String> found = new ArrayList<>();
    String cursor = "";
    for (int page = 0; page < 10; page++) {
      JsonObject body = get("/admin/subjects?prefix=shop.&limit=2&cursor=" + cursor);
      body.getJsonArray("subjects").forEach(s -> found.add(((JsonObject) s).getString("subject")));
      if (!body.getBoolean("truncated")) {
        assertNull(body.getString("cursor"));
        break;
      }
      cursor = body.getString("cursor");
    }
    assertEquals(List.of("shop.eu", "shop.eu.paris", "shop.us"), found);
    JsonArray exact = get("/admin/subjects?prefix=shop&limit=3").getJsonArray("subjects");
    assertEquals("shop", exact.getJsonObject(0).getString("subject"), "the prefix itself is a subject too");
    assertEquals(3, exact.size());
    assertEquals(0, get("/admin/subjects?prefix=shoq").getJsonArray("subjects").size());
  }

  @Test
  void showsSubscribersWithTheirWindowLagAndLastPublish() {
    publish("watched", 3);
    try (V1TestClient subscriber = V1TestClient.connect(vertx, broker.port(), "watched", TestBroker.API_KEY)) {
      subscriber.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      for (int i = 0; i < 3; i++) {
        subscriber.nextPush();
      }
      JsonObject subject = get("/admin/subjects/watched");
      assertEquals(1, subject.getInteger("subscribers"));
      assertTrue(subject.getLong("lastPublishMs") > 0);
      JsonObject consumer = subject.getJsonArray("consumers").getJsonObject(0);
      assertTrue(consumer.getString("subscriber").startsWith("websocket 127.0.0.1"), consumer.encode());
      assertEquals(4L, consumer.getLong("nextSequence"));
      assertEquals(3, consumer.getInteger("pending"), "three pushes, none acked");
      assertEquals(256, consumer.getInteger("window"));
      assertEquals(0L, consumer.getLong("lag"));
      assertEquals(0L, consumer.getLong("redelivered"));
      JsonObject listed = get("/admin/subjects?prefix=watched").getJsonArray("subjects").getJsonObject(0);
      assertEquals(1, listed.getInteger("subscribers"));
    }
  }

  @Test
  void countsRedeliveriesOfAConsumerThatDoesNotAck() throws Exception {
    try (TestBroker impatient = TestBroker.start(vertx, b -> b.ackTimeout(Duration.ofMillis(200)).maxInFlight(2));
         V1TestClient publisher = V1TestClient.connect(vertx, impatient.port(), "unacked", TestBroker.API_KEY);
         V1TestClient subscriber = V1TestClient.connect(vertx, impatient.port(), "unacked", TestBroker.API_KEY)) {
      for (int i = 1; i <= 5; i++) {
        publisher.request(new JsonObject().put("n", i));
      }
      subscriber.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      long deadline = System.currentTimeMillis() + 10_000;
      JsonObject consumer;
      do {
        Thread.sleep(100);
        consumer = web.request(HttpMethod.GET, impatient.port(), "127.0.0.1", "/admin/subjects/unacked")
            .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await()
            .bodyAsJsonObject().getJsonArray("consumers").getJsonObject(0);
      } while (consumer.getLong("redelivered") < 2 && System.currentTimeMillis() < deadline);
      assertTrue(consumer.getLong("redelivered") >= 2, consumer.encode());
      assertEquals(2, consumer.getInteger("window"));
      assertEquals(3L, consumer.getLong("nextSequence"), "the window of 2 never moved on");
      assertEquals(3L, consumer.getLong("lag"), "messages 3 to 5 not sent yet");
    }
  }

  @Test
  void readsFromATime() throws Exception {
    publish("timed", 2);
    Thread.sleep(20);
    long between = System.currentTimeMillis();
    Thread.sleep(20);
    publish("timed", 2);
    JsonObject page = get("/admin/subjects/timed/messages?since=" + between);
    JsonArray messages = page.getJsonArray("messages");
    assertEquals(2, messages.size());
    assertEquals(3L, messages.getJsonObject(0).getLong("sequence"));
    assertEquals(0, get("/admin/subjects/timed/messages?since=" + (System.currentTimeMillis() + 60_000))
        .getJsonArray("messages").size());
    assertEquals(400, send(HttpMethod.GET, "/admin/subjects/timed/messages?since=-1", null).statusCode());
    assertEquals(400, send(HttpMethod.GET, "/admin/subjects/timed/messages?since=yesterday", null).statusCode());
  }

  @Test
  void replacesTheStateOnlyWithAJsonObject() {
    publish("stateful", 1);
    HttpResponse<Buffer> put = send(HttpMethod.PUT, "/admin/subjects/stateful/state", "{\"cursor\":7}");
    assertEquals(200, put.statusCode(), put.bodyAsString());
    assertEquals(new JsonObject().put("cursor", 7), get("/admin/subjects/stateful").getJsonObject("state"));

    HttpResponse<Buffer> array = send(HttpMethod.PUT, "/admin/subjects/stateful/state", "[1,2]");
    assertEquals(400, array.statusCode());
    assertEquals("invalid_state", array.bodyAsJsonObject().getJsonObject("error").getString("code"));
    HttpResponse<Buffer> broken = send(HttpMethod.PUT, "/admin/subjects/stateful/state", "{\"cursor\":");
    assertEquals(400, broken.statusCode());
    assertEquals("invalid_json", broken.bodyAsJsonObject().getJsonObject("error").getString("code"));
    assertEquals(new JsonObject().put("cursor", 7), get("/admin/subjects/stateful").getJsonObject("state"));

    assertEquals(404, send(HttpMethod.PUT, "/admin/subjects/never.written/state", "{}").statusCode());

    // Regression: the admin route re-encoded the state, so 1e400 came back as "Infinity".
    String exact = "{\"big\":1e400,\"tiny\":1e-400,\"s\":\"\\ud800\"}";
    HttpResponse<Buffer> kept = send(HttpMethod.PUT, "/admin/subjects/stateful/state", exact);
    assertEquals(200, kept.statusCode(), kept.bodyAsString());
    assertTrue(kept.bodyAsString().endsWith("\"state\":" + exact + "}"), kept.bodyAsString());
    String stored = send(HttpMethod.GET, "/admin/subjects/stateful", null).bodyAsString();
    assertTrue(stored.contains("\"state\":" + exact), stored);
    assertEquals(404, send(HttpMethod.GET, "/admin/subjects/never.written", null).statusCode(),
        "an admin write to an unknown subject does not create it");
  }

  @Test
  void deletesUpToASequence() {
    publish("trimmed", 5);
    assertEquals(400, send(HttpMethod.DELETE, "/admin/subjects/trimmed/messages", null).statusCode());
    HttpResponse<Buffer> deleted = send(HttpMethod.DELETE, "/admin/subjects/trimmed/messages?upTo=3", null);
    assertEquals(200, deleted.statusCode(), deleted.bodyAsString());
    assertEquals(4L, deleted.bodyAsJsonObject().getLong("firstSequence"));
    assertEquals(2L, deleted.bodyAsJsonObject().getLong("messages"));
    JsonArray left = get("/admin/subjects/trimmed/messages").getJsonArray("messages");
    assertEquals(4L, left.getJsonObject(0).getLong("sequence"));
    assertEquals(404, send(HttpMethod.DELETE, "/admin/subjects/never.seen/messages?upTo=1", null).statusCode());
  }

  @Test
  void theOverviewReadsTheBrokersMeters() throws Exception {
    publish("overview.a", 4);
    JsonObject overview = get("/admin/overview");
    assertFalse(overview.getString("version").isEmpty());
    assertTrue(overview.getLong("uptimeMs") >= 0);
    JsonObject now = overview.getJsonObject("now");
    assertTrue(now.getLong("subjects") >= 1, now.encode());
    assertTrue(now.getLong("storedMessages") >= 4, now.encode());
    assertTrue(now.getLong("storeBytes") > 0, now.encode());
    assertTrue(now.getLong("published") >= 4, now.encode());
    assertTrue(now.getLong("connections") >= 1, "this request's own connection");
    // Samples are taken every interval; wait for one that saw a publish-ack latency.
    long deadline = System.currentTimeMillis() + 15_000;
    JsonObject withLatency = null;
    while (withLatency == null && System.currentTimeMillis() < deadline) {
      publish("overview.a", 1);
      for (Object sample : get("/admin/overview").getJsonArray("samples")) {
        if (((JsonObject) sample).getValue("publishP99Ms") != null) {
          withLatency = (JsonObject) sample;
        }
      }
      Thread.sleep(200);
    }
    assertTrue(withLatency != null, "a sample with publish latencies");
    assertTrue(withLatency.getDouble("publishP50Ms") <= withLatency.getDouble("publishP99Ms"));
    assertTrue(withLatency.getDouble("publishRate") > 0, withLatency.encode());
  }
}
