package io.dstream.broker.hostile;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The HTTP records API under hostile input: every attack gets a clear JSON error, and a bystander's
 * records written between the attacks are all there, in order, afterwards.
 */
class RecordsHostileInputTest {

  private static final String BYSTANDER = "/stream/hostile.records.bystander";
  private static Vertx vertx;
  private static TestBroker broker;
  private static WebClient http;
  private static final List<String> written = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.maxRecordsBodyBytes(64 * 1024));
    http = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static HttpResponse<Buffer> post(String uri, Buffer body) {
    return http.post(broker.port(), "127.0.0.1", uri).putHeader("auth", TestBroker.API_KEY).sendBuffer(body).await();
  }

  private static void assertError(HttpResponse<Buffer> response, int status, String code) {
    assertEquals(status, response.statusCode(), response.bodyAsString());
    assertEquals(code, response.bodyAsJsonObject().getJsonObject("error").getString("code"));
  }

  @AfterEach
  void bystanderRecordsAreIntact() {
    String record = "{\"n\":" + written.size() + "}";
    assertEquals(200, post(BYSTANDER, Buffer.buffer("{\"records\":[" + record + "]}")).statusCode());
    written.add(record);
    HttpResponse<Buffer> read = http.get(broker.port(), "127.0.0.1", BYSTANDER + "?offset=-&limit=1000")
        .putHeader("auth", TestBroker.API_KEY).send().await();
    JsonArray records = read.bodyAsJsonObject().getJsonArray("records");
    assertEquals(written.size(), records.size());
    for (int i = 0; i < written.size(); i++) {
      assertEquals(new JsonObject(written.get(i)), records.getJsonObject(i).getJsonObject("data"));
    }
  }

  @Test
  void malformedAndTruncatedJsonIs400() {
    assertError(post("/stream/h1", Buffer.buffer("{\"records\":[1,2")), 400, "invalid_json");
    assertError(post("/stream/h1", Buffer.buffer("not json at all")), 400, "invalid_json");
    assertError(post("/stream/h1", Buffer.buffer("{\"records\":{}}")), 400, "invalid_records");
  }

  @Test
  void deeplyNestedJsonIs400() {
    String nested = "[".repeat(5_000) + "]".repeat(5_000);
    assertError(post("/stream/h2", Buffer.buffer("{\"records\":[" + nested + "]}")), 400, "invalid_json");
  }

  @Test
  void hugeNumbersAreKeptAsWritten() {
    String huge = "1" + "0".repeat(300);
    assertEquals(200, post("/stream/h3", Buffer.buffer("{\"records\":[{\"n\":" + huge + "}]}")).statusCode());
    String body = http.get(broker.port(), "127.0.0.1", "/stream/h3?offset=-").putHeader("auth", TestBroker.API_KEY)
        .send().await().bodyAsString();
    assertTrue(body.contains(huge), body);
  }

  @Test
  void invalidUtf8BodyIs400() {
    Buffer body = Buffer.buffer("{\"records\":[\"").appendBytes(new byte[] {(byte) 0xC3, (byte) 0x28}).appendString("\"]}");
    assertError(post("/stream/h4", body), 400, "invalid_json");
  }

  @Test
  void oversizeBodyIs413() {
    String big = "{\"records\":[\"" + "x".repeat(100 * 1024) + "\"]}";
    assertError(post("/stream/h5", Buffer.buffer(big)), 413, "payload_too_large");
  }

  @Test
  void headerInjectionThroughQueryOrPathIsRefusedAndNotReflected() {
    HttpResponse<Buffer> version = post("/stream/h6?version=1%0d%0aX-Injected:%20yes", Buffer.buffer("{\"records\":[1]}"));
    assertError(version, 400, "invalid_version");
    assertNull(version.getHeader("X-Injected"));
    HttpResponse<Buffer> subject = post("/stream/h6%0d%0aX-Injected:%20yes", Buffer.buffer("{\"records\":[1]}"));
    assertError(subject, 400, "invalid_subject");
    assertNull(subject.getHeader("X-Injected"));
  }

  @Test
  void everySubjectRuleIsEnforcedOverHttp() {
    HttpResponse<Buffer> undecodable = post("/stream/%zz", Buffer.buffer("{\"records\":[1]}"));
    assertError(undecodable, 400, "bad_request");
    assertTrue(undecodable.bodyAsJsonObject().getJsonObject("error").getString("message").contains("percent-encoding"));
    for (String bad : new String[] {"a..b", ".a", "a.", "a%20b", "a%2Fb", "a*", "a.>", "%00", "%C3%28", "x".repeat(256)}) {
      HttpResponse<Buffer> refused = post("/stream/" + bad, Buffer.buffer("{\"records\":[1]}"));
      assertEquals(400, refused.statusCode(), bad);
      assertEquals("invalid_subject", refused.bodyAsJsonObject().getJsonObject("error").getString("code"), bad);
    }
  }
}
