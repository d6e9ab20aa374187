package io.dstream.broker.durablestreams;

import io.dstream.pattern.TokenPattern;
import io.dstream.broker.TestBroker;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.Signature;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HexFormat;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reserved subscription APIs: signed webhooks with fenced callbacks, pull-wake claims with leases. */
@ExtendWith(VertxExtension.class)
class SubscriptionsTest {

  /** X.509 SubjectPublicKeyInfo header of an Ed25519 key, followed by the raw 32 bytes. */
  private static final byte[] ED25519_SPKI_HEADER = HexFormat.of().parseHex("302a300506032b6570032100");
  private static final Pattern SIGNATURE = Pattern.compile("t=(\\d+),kid=([^,]+),ed25519=([A-Za-z0-9_-]+)");

  private TestBroker broker;
  private WebClient http;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    broker = TestBroker.start(vertx);
    http = WebClient.create(vertx);
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  private HttpRequest<Buffer> request(HttpMethod method, String path) {
    return http.request(method, broker.port(), "127.0.0.1", "/v1/stream/" + path)
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY);
  }

  private HttpResponse<Buffer> send(HttpMethod method, String path, JsonObject body) {
    return request(method, path).putHeader("Content-Type", "application/json").sendBuffer(body.toBuffer()).await();
  }

  @Test
  void webhookWakesAreSignedAndStaleCallbacksAreFenced(Vertx vertx) throws Exception {
    Promise<HttpServerRequest> hook = Promise.promise();
    Promise<Buffer> hookBody = Promise.promise();
    HttpServer receiver = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
      hook.tryComplete(req);
      hookBody.tryComplete(body);
      req.response().putHeader("Content-Type", "application/json").end("{}");
    })).listen(0, "127.0.0.1").await();
    try {
      JsonObject definition = new JsonObject().put("type", "webhook").put("pattern", "events/*")
          .put("webhook", new JsonObject().put("url", "http://127.0.0.1:" + receiver.actualPort() + "/hook"))
          .put("lease_ttl_ms", 60_000);
      HttpResponse<Buffer> created = send(HttpMethod.PUT, "__ds/subscriptions/s1", definition);
      assertEquals(201, created.statusCode());
      assertEquals(200, send(HttpMethod.PUT, "__ds/subscriptions/s1", definition).statusCode());
      JsonObject jwks = request(HttpMethod.GET, "__ds/jwks.json").send().await().bodyAsJsonObject();

      send(HttpMethod.PUT, "events/a", new JsonObject().put("event", "created"));
      String signature = hook.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS)
          .getHeader("webhook-signature");
      String raw = hookBody.future().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS).toString();
      assertTrue(verifies(raw, signature, jwks.getJsonArray("keys").getJsonObject(0)), signature);

      JsonObject wake = new JsonObject(raw);
      JsonObject stream = wake.getJsonArray("streams").getJsonObject(0);
      assertEquals("events/a", stream.getString("path"));
      JsonObject ack = new JsonObject().put("wake_id", wake.getString("wake_id"))
          .put("generation", wake.getLong("generation")).put("done", true)
          .put("acks", new JsonArray().add(new JsonObject().put("stream", "events/a")
              .put("offset", stream.getString("tail_offset"))));
      HttpResponse<Buffer> done = http.requestAbs(HttpMethod.POST, wake.getString("callback_url"))
          .putHeader("Authorization", "Bearer " + wake.getString("callback_token")).sendJsonObject(ack).await();
      assertEquals(200, done.statusCode());
      assertEquals(new JsonObject().put("ok", true).put("next_wake", false), done.bodyAsJsonObject());
      HttpResponse<Buffer> stale = http.requestAbs(HttpMethod.POST, wake.getString("callback_url"))
          .putHeader("Authorization", "Bearer " + wake.getString("callback_token")).sendJsonObject(ack).await();
      assertEquals(409, stale.statusCode());
      assertEquals("FENCED", stale.bodyAsJsonObject().getJsonObject("error").getString("code"));
    } finally {
      receiver.close().await();
    }
  }

  private static boolean verifies(String body, String header, JsonObject jwk) throws Exception {
    Matcher matcher = SIGNATURE.matcher(header);
    if (!matcher.matches() || !matcher.group(2).equals(jwk.getString("kid"))) {
      return false;
    }
    byte[] x = Base64.getUrlDecoder().decode(jwk.getString("x"));
    byte[] spki = Buffer.buffer(ED25519_SPKI_HEADER).appendBytes(x).getBytes();
    PublicKey key = KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki));
    Signature verifier = Signature.getInstance("Ed25519");
    verifier.initVerify(key);
    verifier.update((matcher.group(1) + "." + body).getBytes(StandardCharsets.UTF_8));
    return verifier.verify(Base64.getUrlDecoder().decode(matcher.group(3)));
  }

  @Test
  void pullWakeClaimsAreExclusiveAndReleasable() {
    request(HttpMethod.PUT, "wake/pool").putHeader("Content-Type", "application/json").sendBuffer(Buffer.buffer("[]")).await();
    assertEquals(201, send(HttpMethod.PUT, "__ds/subscriptions/p1", new JsonObject().put("type", "pull-wake")
        .put("pattern", "jobs/*").put("wake_stream", "wake/pool").put("lease_ttl_ms", 60_000)).statusCode());
    assertEquals(409, send(HttpMethod.POST, "__ds/subscriptions/p1/claim", new JsonObject().put("worker", "w1"))
        .statusCode());

    send(HttpMethod.PUT, "jobs/1", new JsonObject().put("job", 1));
    HttpResponse<Buffer> claimed = send(HttpMethod.POST, "__ds/subscriptions/p1/claim", new JsonObject().put("worker", "w1"));
    assertEquals(200, claimed.statusCode());
    HttpResponse<Buffer> busy = send(HttpMethod.POST, "__ds/subscriptions/p1/claim", new JsonObject().put("worker", "w2"));
    assertEquals("w1", busy.bodyAsJsonObject().getJsonObject("error").getString("current_holder"));
    // The wake event is appended after the write that caused it: wait for it with a long-poll.
    JsonArray events = request(HttpMethod.GET, "wake/pool?live=long-poll&offset=" + Offsets.ZERO).send().await()
        .bodyAsJsonArray();
    assertEquals("p1", events.getJsonObject(0).getString("subscription_id"));

    JsonObject claim = claimed.bodyAsJsonObject();
    HttpResponse<Buffer> release = http.request(HttpMethod.POST, broker.port(), "127.0.0.1",
            "/v1/stream/__ds/subscriptions/p1/release")
        .putHeader("Authorization", "Bearer " + claim.getString("token"))
        .sendJsonObject(new JsonObject().put("wake_id", claim.getString("wake_id"))
            .put("generation", claim.getLong("generation"))).await();
    assertEquals(204, release.statusCode());
  }

  @Test
  void webhooksToPrivateNetworksAreRefused() {
    HttpResponse<Buffer> refused = send(HttpMethod.PUT, "__ds/subscriptions/bad", new JsonObject().put("type", "webhook")
        .put("pattern", "x/*").put("webhook", new JsonObject().put("url", "http://10.0.0.1/hook")));
    assertEquals(400, refused.statusCode());
    assertEquals("WEBHOOK_URL_REJECTED", refused.bodyAsJsonObject().getJsonObject("error").getString("code"));
    assertEquals(null, Subscriptions.webhookUrlProblem("https://example.com/hook"));
    assertTrue(Subscriptions.webhookUrlProblem("https://192.168.1.1/hook") != null);
  }

  @Test
  void globsMatchSegments() {
    assertTrue(TokenPattern.paths("events/*").matches("events/a"));
    assertTrue(!TokenPattern.paths("events/*").matches("events/a/b"));
    assertTrue(TokenPattern.paths("events/**").matches("events/a/b"));
    assertTrue(TokenPattern.paths("**").matches("anything/at/all"));
    assertEquals("a/b", StreamPaths.normalize("/a//b/"));
  }
}
