package io.dstream.broker.records;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The records API as docs/http.md describes it, over real sockets against a real broker. */
class RecordsApiTest {

  static final int MAX_PER_POST = 50;
  static final int MAX_PER_READ = 20;
  static final int MAX_BODY_BYTES = 16 * 1024;
  private static final AtomicInteger SUBJECTS = new AtomicInteger();
  private static Vertx vertx;
  private static TestBroker broker;
  private static RecordsClient client;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.maxRecordsPerPost(MAX_PER_POST).maxRecordsPerRead(MAX_PER_READ)
        .maxRecordsBodyBytes(MAX_BODY_BYTES).actorCacheMessages(4).longPollTimeout(Duration.ofSeconds(20)));
    client = new RecordsClient(WebClient.create(vertx), broker);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  static String freshSubject() {
    return "records.s" + SUBJECTS.incrementAndGet();
  }

  /** curl -d declares a form; the body is read as JSON all the same, also above the form parser's limits. */
  @Test
  void aJsonBodyDeclaredAsAFormIsAppended() {
    String subject = freshSubject();
    JsonArray records = new JsonArray();
    for (int i = 0; i < 40; i++) {
      records.add(new JsonObject().put("item", "x".repeat(100)).put("n", i));
    }
    String body = new JsonObject().put("records", records).encode();
    assertTrue(body.length() > 4096, "well above the ~1 KiB where the form parser refused it");
    HttpResponse<Buffer> posted = client.request(HttpMethod.POST, subject, "")
        .putHeader("Content-Type", "application/x-www-form-urlencoded").sendBuffer(Buffer.buffer(body)).await();
    assertEquals(200, posted.statusCode(), posted.bodyAsString());
    assertEquals(40, posted.bodyAsJsonObject().getJsonArray("offsets").size());
    JsonArray read = client.get(subject, "offset=-").bodyAsJsonObject().getJsonArray("records");
    assertTrue(!read.isEmpty());
    assertEquals(records.getJsonObject(0), read.getJsonObject(0).getJsonObject("data"), "stored as the JSON sent");
  }

  @Test
  void postAppendsInOrderAndGetReadsTheRecordsBackByteForByte() {
    String subject = freshSubject();
    HttpResponse<Buffer> posted = client.post(subject, "", "{\"records\":[{\"a\":1},\"two\",[3],"
        + "{\"x\":0.1000000000000000055511151231257827,\"big\":12345678901234567890123},null]}");
    assertEquals(200, posted.statusCode());
    assertEquals("application/json", posted.getHeader("Content-Type"));
    assertEquals(new JsonObject().put("offsets", new JsonArray().add("1").add("2").add("3").add("4").add("5")),
        posted.bodyAsJsonObject());
    HttpResponse<Buffer> read = client.get(subject, "offset=-");
    assertEquals(200, read.statusCode());
    String body = read.bodyAsString();
    assertTrue(body.contains("\"data\":{\"x\":0.1000000000000000055511151231257827,\"big\":12345678901234567890123}"), body);
    JsonArray records = read.bodyAsJsonObject().getJsonArray("records");
    assertEquals(5, records.size());
    JsonObject first = records.getJsonObject(0);
    assertEquals("1", first.getString("offset"));
    assertEquals(new JsonObject().put("a", 1), first.getJsonObject("data"));
    long ts = first.getLong("ts");
    assertTrue(Math.abs(System.currentTimeMillis() - ts) < 60_000, "ts is the publish time in ms: " + ts);
    assertEquals("two", records.getJsonObject(1).getString("data"));
    assertNull(records.getJsonObject(4).getValue("data"));
    assertTrue(records.getJsonObject(4).containsKey("data"));
    for (int i = 1; i < records.size(); i++) {
      assertTrue(records.getJsonObject(i).getLong("ts") >= records.getJsonObject(i - 1).getLong("ts"));
    }
  }

  @Test
  void offsetIsStrictlyAfterDashIsFromTheStartAbsentIsOnlyNewAndLimitIsBounded() {
    String subject = freshSubject();
    for (int batch = 0; batch < 3; batch++) {
      client.postRecords(subject, "", numbers(batch * 10 + 1, 10));
    }
    assertEquals(List.of("1", "2", "3", "4", "5", "6", "7", "8", "9", "10"), offsets(client.get(subject, "offset=-")),
        "the default limit is 10");
    assertEquals(List.of("6", "7", "8"), offsets(client.get(subject, "offset=5&limit=3")));
    assertEquals(MAX_PER_READ, offsets(client.get(subject, "offset=-&limit=1000")).size(), "limit is capped");
    assertEquals(List.of("30"), offsets(client.get(subject, "offset=29")));
    assertEquals(List.of(), offsets(client.get(subject, "offset=30")));
    assertEquals(List.of(), offsets(client.get(subject, "offset=1000")));
    assertEquals(List.of(), offsets(client.get(subject, "")), "without offset only records written later");
    assertEquals(List.of(), offsets(client.get(subject, "timeout_sec=0")));
    assertEquals(List.of(), offsets(client.get(freshSubject(), "offset=-")), "an unknown subject has no records");
  }

  @Test
  void readsOlderThanTheActorCacheComeFromTheStore() {
    String subject = freshSubject();
    client.postRecords(subject, "", numbers(1, 40));
    List<String> expected = new ArrayList<>();
    for (int i = 1; i <= MAX_PER_READ; i++) {
      expected.add(String.valueOf(i));
    }
    HttpResponse<Buffer> read = client.get(subject, "offset=-&limit=" + MAX_PER_READ);
    assertEquals(expected, offsets(read));
    assertEquals(7, read.bodyAsJsonObject().getJsonArray("records").getJsonObject(6).getInteger("data"));
  }

  @Test
  void badBodiesAre400WithAJsonError() {
    String subject = freshSubject();
    assertError(client.post(subject, "", "{\"records\":[1,"), 400, "invalid_json");
    assertError(client.post(subject, "", "not json"), 400, "invalid_json");
    assertError(client.post(subject, "", "[1,2]"), 400, "invalid_json");
    assertError(client.post(subject, "", "{\"records\":[1]} trailing"), 400, "invalid_json");
    assertError(client.post(subject, "", "{\"records\":[1],\"records\":[2]}"), 400, "invalid_json");
    assertError(client.post(subject, "", ""), 400, "invalid_json");
    assertError(client.postBytes(subject, Buffer.buffer(new byte[] {'{', '"', (byte) 0xC3, '"', ':', '1', '}'})),
        400, "invalid_json");
    assertError(client.post(subject, "", "{\"other\":[1]}"), 400, "invalid_records");
    assertError(client.post(subject, "", "{\"records\":{\"a\":1}}"), 400, "invalid_records");
    assertError(client.post(subject, "", "{\"records\":\"x\"}"), 400, "invalid_records");
    assertError(client.post(subject, "", "{\"records\":[]}"), 400, "invalid_records");
    assertError(client.postRecords(subject, "", numbers(1, MAX_PER_POST + 1)), 400, "too_many_records");
    assertError(client.post(subject, "", "{\"records\":[\"" + "x".repeat(MAX_BODY_BYTES) + "\"]}"), 413,
        "payload_too_large");
    assertEquals(List.of(), offsets(client.get(subject, "offset=-")), "nothing of a refused body was stored");
    assertEquals(MAX_PER_POST, client.postRecords(subject, "", numbers(1, MAX_PER_POST))
        .bodyAsJsonObject().getJsonArray("offsets").size());
  }

  @Test
  void badQueriesAre400AndOtherMethods405() {
    String subject = freshSubject();
    for (String query : new String[] {"offset=abc", "offset=-1", "offset=1.5", "limit=0", "limit=x", "limit=-3",
        "timeout_sec=-1", "timeout_sec=soon", "since=yesterday", "since=2024-13-01T00:00:00Z", "offset=1&since=5"}) {
      assertError(client.get(subject, query), 400, "invalid_argument");
    }
    for (String version : new String[] {"x", "1.5", "-1", "99999999999999999999"}) {
      assertError(client.postRecords(subject, "version=" + version, numbers(1, 1)), 400, "invalid_version");
    }
    for (HttpMethod method : new HttpMethod[] {HttpMethod.PUT, HttpMethod.PATCH, HttpMethod.HEAD}) {
      HttpResponse<Buffer> refused = client.request(method, subject, "").send().await();
      assertEquals(405, refused.statusCode(), method.name());
      assertEquals("GET, POST, DELETE", refused.getHeader("Allow"));
    }
    assertError(client.request(HttpMethod.PUT, subject, "").send().await(), 405, "method_not_allowed");
  }

  @Test
  void credentialsAreRequired() {
    HttpResponse<Buffer> anonymous = client.web.get(broker.port(), "127.0.0.1", "/stream/" + freshSubject()).send().await();
    assertError(anonymous, 401, "unauthorized");
    HttpResponse<Buffer> post = client.web.post(broker.port(), "127.0.0.1", "/stream/" + freshSubject())
        .sendBuffer(Buffer.buffer("{\"records\":[1]}")).await();
    assertError(post, 401, "unauthorized");
  }

  @Test
  void sinceReadsFromThePublishTimeGivenAsEpochMillisOrRfc3339() throws Exception {
    String subject = freshSubject();
    client.postRecords(subject, "", numbers(1, 3));
    long firstBatchTs = client.get(subject, "offset=2").bodyAsJsonObject().getJsonArray("records").getJsonObject(0).getLong("ts");
    long deadline = System.currentTimeMillis() + 5_000;
    while (System.currentTimeMillis() <= firstBatchTs + 1 && System.currentTimeMillis() < deadline) {
      Thread.sleep(1);
    }
    client.postRecords(subject, "", numbers(4, 3));
    JsonArray all = client.get(subject, "offset=-").bodyAsJsonObject().getJsonArray("records");
    long secondBatchTs = all.getJsonObject(3).getLong("ts");
    assertTrue(secondBatchTs > firstBatchTs);
    assertEquals(List.of("4", "5", "6"), offsets(client.get(subject, "since=" + secondBatchTs)));
    assertEquals(List.of("4", "5", "6"), offsets(client.get(subject, "since=" + RecordsClient.rfc3339(secondBatchTs))));
    String withOffset = Instant.ofEpochMilli(secondBatchTs).atOffset(java.time.ZoneOffset.ofHours(2)).toString();
    assertEquals(List.of("4", "5", "6"), offsets(client.get(subject, "since=" + withOffset.replace("+", "%2B"))));
    assertEquals(List.of("4", "5"), offsets(client.get(subject, "since=" + secondBatchTs + "&limit=2")));
    List<String> fromFirst = new ArrayList<>();
    for (int i = 0; i < all.size(); i++) {
      if (all.getJsonObject(i).getLong("ts") >= firstBatchTs) {
        fromFirst.add(all.getJsonObject(i).getString("offset"));
      }
    }
    assertEquals(fromFirst, offsets(client.get(subject, "since=" + firstBatchTs)));
    assertEquals(6, offsets(client.get(subject, "since=0")).size());
    assertEquals(List.of(), offsets(client.get(subject, "since=" + (System.currentTimeMillis() + 3_600_000))));
  }

  @Test
  void timeoutSecLongPollsAndAnswersEmptyWhenNothingArrives() throws Exception {
    try (TestBroker shortPolls = TestBroker.start(vertx, b -> b.longPollTimeout(Duration.ofMillis(200)))) {
      RecordsClient shortClient = new RecordsClient(client.web, shortPolls);
      HttpResponse<Buffer> waited = shortClient.get("poll.empty", "timeout_sec=3600");
      assertEquals(200, waited.statusCode());
      assertEquals(List.of(), offsets(waited), "answered empty at the broker's long-poll bound, not after an hour");
    }
  }

  @Test
  void aBrokerAtItsActiveSubjectBoundAnswers503Overloaded() throws Exception {
    try (TestBroker full = TestBroker.start(vertx, b -> b.connectionLimits(
        new ConnectionLimits(1000, 1000, 1000, Duration.ofSeconds(30), 1, ConnectionLimits.DEFAULT.idleTimeout(),
            ConnectionLimits.DEFAULT.requestHeaderTimeout(), ConnectionLimits.DEFAULT.pingInterval())))) {
      RecordsClient fullClient = new RecordsClient(client.web, full);
      assertEquals(200, fullClient.postRecords("only.one", "", numbers(1, 1)).statusCode());
      HttpResponse<Buffer> refused = fullClient.postRecords("one.more", "", numbers(1, 1));
      assertError(refused, 503, "overloaded");
      assertEquals("1", refused.getHeader("Retry-After"));
      assertError(fullClient.get("one.more", "offset=-"), 503, "overloaded");
    }
  }

  static List<String> offsets(HttpResponse<Buffer> response) {
    assertEquals(200, response.statusCode(), response.bodyAsString());
    List<String> offsets = new ArrayList<>();
    for (Object record : response.bodyAsJsonObject().getJsonArray("records")) {
      offsets.add(((JsonObject) record).getString("offset"));
    }
    return offsets;
  }

  static JsonArray numbers(int from, int count) {
    JsonArray records = new JsonArray();
    for (int i = from; i < from + count; i++) {
      records.add(i);
    }
    return records;
  }

  static void assertError(HttpResponse<Buffer> response, int status, String code) {
    assertEquals(status, response.statusCode(), response.bodyAsString());
    assertEquals(code, response.bodyAsJsonObject().getJsonObject("error").getString("code"), response.bodyAsString());
  }

  /** A records API client with the broker's key in the {@code auth} header. */
  static final class RecordsClient {
    final WebClient web;
    private final TestBroker target;

    RecordsClient(WebClient web, TestBroker target) {
      this.web = web;
      this.target = target;
    }

    HttpRequest<Buffer> request(HttpMethod method, String subject, String query) {
      return web.request(method, target.port(), "127.0.0.1", "/stream/" + subject + (query.isEmpty() ? "" : "?" + query))
          .putHeader("auth", TestBroker.API_KEY);
    }

    HttpResponse<Buffer> get(String subject, String query) {
      return request(HttpMethod.GET, subject, query).send().await();
    }

    HttpResponse<Buffer> post(String subject, String query, String body) {
      return request(HttpMethod.POST, subject, query).sendBuffer(Buffer.buffer(body)).await();
    }

    HttpResponse<Buffer> postBytes(String subject, Buffer body) {
      return request(HttpMethod.POST, subject, "").sendBuffer(body).await();
    }

    HttpResponse<Buffer> postRecords(String subject, String query, JsonArray records) {
      return post(subject, query, new JsonObject().put("records", records).encode());
    }

    HttpResponse<Buffer> delete(String subject) {
      return request(HttpMethod.DELETE, subject, "").send().await();
    }

    /** The since parameter for a publish time, as RFC 3339. */
    static String rfc3339(long epochMs) {
      return Instant.ofEpochMilli(epochMs).toString();
    }
  }
}
