package io.dstream.broker.hostile;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The Durable Streams view under hostile input: bad JSON, bad UTF-8, oversize appends and path
 * tricks get 4xx answers, nothing escapes the {@code ds.} namespace, and a bystander stream keeps
 * every append.
 */
class DurableStreamsHostileInputTest {

  private static final String BYSTANDER = "/v1/stream/hostile/bystander";
  private static final AtomicInteger STREAMS = new AtomicInteger();
  private static Vertx vertx;
  private static TestBroker broker;
  private static WebClient http;
  private static final JsonArray written = new JsonArray();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.maxAppendBytes(64 * 1024));
    http = WebClient.create(vertx);
    assertEquals(201, request("PUT", BYSTANDER).putHeader("Content-Type", "application/json")
        .send().await().statusCode());
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static HttpRequest<Buffer> request(String method, String uri) {
    return http.request(io.vertx.core.http.HttpMethod.valueOf(method), broker.port(), "127.0.0.1", uri)
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY);
  }

  private static String jsonStream() {
    String path = "/v1/stream/hostile/json-" + STREAMS.incrementAndGet();
    assertEquals(201, request("PUT", path).putHeader("Content-Type", "application/json").send().await().statusCode());
    return path;
  }

  private static HttpResponse<Buffer> append(String path, Buffer body) {
    return request("POST", path).putHeader("Content-Type", "application/json").sendBuffer(body).await();
  }

  @AfterEach
  void bystanderKeepsEveryAppend() {
    JsonObject value = new JsonObject().put("n", written.size());
    assertEquals(204, append(BYSTANDER, Buffer.buffer(value.encode())).statusCode());
    written.add(value);
    HttpResponse<Buffer> read = request("GET", BYSTANDER + "?offset=-1").send().await();
    assertEquals(written, read.bodyAsJsonArray());
  }

  @Test
  void malformedJsonInJsonModeIs400() {
    String path = jsonStream();
    assertEquals(400, append(path, Buffer.buffer("{\"a\":")).statusCode());
    assertEquals(400, append(path, Buffer.buffer("[1,2")).statusCode());
    assertEquals(400, append(path, Buffer.buffer("[]")).statusCode(), "an empty array appends nothing");
  }

  @Test
  void deeplyNestedJsonIsRefused() {
    String nested = "[".repeat(5_000) + "]".repeat(5_000);
    int status = append(jsonStream(), Buffer.buffer(nested)).statusCode();
    assertTrue(status == 400 || status == 413, "status " + status);
  }

  @Test
  void hugeNumbersAreKeptAsWritten() {
    String path = jsonStream();
    String huge = "1" + "0".repeat(300);
    assertEquals(204, append(path, Buffer.buffer("{\"n\":" + huge + "}")).statusCode());
    assertTrue(request("GET", path + "?offset=-1").send().await().bodyAsString().contains(huge));
  }

  @Test
  void invalidUtf8InJsonModeIs400() {
    Buffer body = Buffer.buffer("{\"s\":\"").appendBytes(new byte[] {(byte) 0xC3, (byte) 0x28}).appendString("\"}");
    assertEquals(400, append(jsonStream(), body).statusCode());
  }

  @Test
  void oversizeAppendIs413() {
    String big = "\"" + "x".repeat(100 * 1024) + "\"";
    assertEquals(413, append(jsonStream(), Buffer.buffer(big)).statusCode());
  }

  @Test
  void dotSegmentsAndEncodedSlashesStayInsideTheNamespace() {
    try (V1TestClient v1 = V1TestClient.connect(vertx, broker.port(), "escape.target", TestBroker.API_KEY)) {
      for (String path : new String[] {"/v1/stream/..%2F..%2Fstream%2Fescape.target", "/v1/stream/%2e%2e/escape.target",
          "/v1/stream/a/%2E%2E%2F%2E%2E%2Fescape.target"}) {
        HttpResponse<Buffer> created = request("PUT", path).putHeader("Content-Type", "text/plain").send().await();
        assertTrue(created.statusCode() < 500, path + " -> " + created.statusCode());
        request("POST", path).putHeader("Content-Type", "text/plain").sendBuffer(Buffer.buffer("x")).await();
      }
      assertEquals(0L, v1.command("getStreamInfo").getLong("sequence"), "a Durable Streams path reached a v1 subject");
    }
  }

  @Test
  void v1AndRecordsRequestsCannotReachDurableStreamsSubjects() {
    HttpResponse<Buffer> records = http.post(broker.port(), "127.0.0.1", "/stream/ds.hostile~2Fbystander")
        .putHeader("auth", TestBroker.API_KEY).sendBuffer(Buffer.buffer("{\"records\":[1]}")).await();
    assertEquals(400, records.statusCode());
  }
}
