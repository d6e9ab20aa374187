package io.dstream.broker.http;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Credentials are checked before any upgrade, and subjects are validated rule by rule. */
class AuthAndSubjectsTest {

  private static Vertx vertx;
  private static TestBroker broker;
  private static WebClient http;
  private static WebSocketClient ws;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx);
    http = WebClient.create(vertx);
    ws = vertx.createWebSocketClient();
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static HttpResponse<Buffer> get(String uri, String header, String value) {
    var request = http.get(broker.port(), "127.0.0.1", uri);
    if (header != null) {
      request.putHeader(header, value);
    }
    return request.send().await();
  }

  private static int upgradeStatus(String uri, String header, String value) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(broker.port()).setURI(uri);
    if (header != null) {
      options.addHeader(header, value);
    }
    try {
      ws.connect(options).await().close().await();
      return 101;
    } catch (UpgradeRejectedException e) {
      return e.getStatus();
    }
  }

  @Test
  void healthNeedsNoCredentials() {
    HttpResponse<Buffer> health = get("/health", null, null);
    assertEquals(200, health.statusCode());
    assertEquals(new JsonObject().put("status", "ok"), health.bodyAsJsonObject());
  }

  private static double unauthenticated() {
    return broker.broker().metrics().unauthenticated.count();
  }

  @Test
  void missingOrWrongKeyIs401WithAJsonError() {
    double before = unauthenticated();
    HttpResponse<Buffer> missing = get("/metrics", null, null);
    assertEquals(401, missing.statusCode());
    assertEquals("unauthorized", missing.bodyAsJsonObject().getJsonObject("error").getString("code"));
    assertEquals(401, get("/metrics?apiKey=wrong", null, null).statusCode());
    assertEquals(401, get("/metrics", "Authorization", "Bearer wrong").statusCode());
    assertEquals(401, get("/metrics", "auth", "wrong").statusCode());
    assertEquals(before + 4, unauthenticated(), "dstream_unauthenticated counts each refusal");
  }

  @Test
  void everyCredentialFormIsAccepted() {
    double before = unauthenticated();
    assertEquals(200, get("/metrics?apiKey=" + TestBroker.API_KEY, null, null).statusCode());
    assertEquals(200, get("/metrics", "Authorization", "Bearer " + TestBroker.API_KEY).statusCode());
    assertEquals(200, get("/metrics", "auth", TestBroker.API_KEY).statusCode());
    assertEquals(before, unauthenticated());
  }

  @Test
  void webSocketUpgradeIsRefusedWith401BeforeUpgrading() {
    double before = unauthenticated();
    assertEquals(401, upgradeStatus("/stream/a.b", null, null));
    assertEquals(401, upgradeStatus("/stream/a.b?apiKey=wrong", null, null));
    assertEquals(401, upgradeStatus("/stream/a.b", "Authorization", "Bearer wrong"));
    assertEquals(before + 3, unauthenticated());
    assertEquals(101, upgradeStatus("/stream/a.b?apiKey=" + TestBroker.API_KEY, null, null));
    assertEquals(101, upgradeStatus("/stream/a.b", "Authorization", "Bearer " + TestBroker.API_KEY));
    assertEquals(101, upgradeStatus("/stream/a.b", "auth", TestBroker.API_KEY));
    assertEquals(before + 3, unauthenticated());
  }

  @Test
  void invalidSubjectsAre400WithTheRuleBroken() {
    String[] bad = {"", "a..b", ".a", "a.", "a%20b", "a%09b", "a%2Fb", "a/b", "a*", "a.%3E", "a%01b", "%FF",
        "x".repeat(256), "%C3%A9".repeat(128)};
    for (String subject : bad) {
      String uri = "/stream/" + subject + "?apiKey=" + TestBroker.API_KEY;
      HttpResponse<Buffer> response = get(uri, null, null);
      assertEquals(400, response.statusCode(), subject);
      assertEquals("invalid_subject", response.bodyAsJsonObject().getJsonObject("error").getString("code"), subject);
      assertEquals(400, upgradeStatus(uri, null, null), subject);
    }
  }

  @Test
  void unicodeAndLongestSubjectsAreValid() {
    for (String subject : new String[] {"z%C3%BCrich.temp", "x".repeat(255), "orders.eu-west.v1_2", "a"}) {
      assertEquals(101, upgradeStatus("/stream/" + subject + "?apiKey=" + TestBroker.API_KEY, null, null), subject);
    }
  }

  @Test
  void plainHttpOnAStreamIsTheRecordsApiAndUnknownPathsAre404() {
    HttpResponse<Buffer> plain = get("/stream/a.b?apiKey=" + TestBroker.API_KEY, null, null);
    assertEquals(200, plain.statusCode());
    assertTrue(plain.bodyAsJsonObject().containsKey("records"));
    HttpResponse<Buffer> unknown = get("/nope?apiKey=" + TestBroker.API_KEY, null, null);
    assertEquals(404, unknown.statusCode());
    assertEquals("not_found", unknown.bodyAsJsonObject().getJsonObject("error").getString("code"));
  }

  @Test
  void withoutAConfiguredKeyOneIsGeneratedOnceIntoTheDataDirWithMode600() throws Exception {
    Path dataDir = Files.createTempDirectory("dstream-keygen");
    String key;
    try (TestBroker generated = TestBroker.start(vertx, dataDir, b -> b.apiKey(null))) {
      Path file = dataDir.resolve("api-key");
      assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
      key = Files.readString(file).trim();
      assertTrue(key.length() >= 32);
      assertEquals(401, get(generated, "/metrics?apiKey=" + TestBroker.API_KEY));
      assertEquals(200, get(generated, "/metrics?apiKey=" + key));
      generated.stop();
      generated.restart();
      assertEquals(200, get(generated, "/metrics?apiKey=" + key), "the key changed across restarts");
      try (V1TestClient client = V1TestClient.connect(vertx, generated.port(), "gen.key", key)) {
        assertEquals(1L, client.request("ok").getLong("sequence"));
      }
    }
    assertThrows(UpgradeRejectedException.class, () -> ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1")
        .setPort(broker.port()).setURI("/stream/x?apiKey=" + key)).await());
  }

  private static int get(TestBroker target, String uri) {
    return http.get(target.port(), "127.0.0.1", uri).send().await().statusCode();
  }
}
