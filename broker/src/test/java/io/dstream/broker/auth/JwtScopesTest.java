package io.dstream.broker.auth;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** JWT bearer tokens: signature and standard claims are checked, and the dstream claim scopes every call. */
class JwtScopesTest {

  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static Vertx vertx;
  private static TestBroker broker;
  private static JWTAuth issuer;
  private static WebClient http;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.jwt(new JwtSettings(SECRET, null, "dstream-test", List.of("brokers"))));
    issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
    http = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  static JsonObject grant(List<String> pub, List<String> sub) {
    return new JsonObject().put("pub", new JsonArray(pub)).put("sub", new JsonArray(sub));
  }

  private static String token(JsonObject grant, int expiresInSeconds) {
    JsonObject claims = new JsonObject().put("dstream", grant);
    return issuer.generateToken(claims, new JWTOptions().setSubject("alice").setIssuer("dstream-test")
        .setAudience(List.of("brokers")).setExpiresInSeconds(expiresInSeconds));
  }

  private static int upgradeStatus(String subject, String token) {
    WebSocketClient ws = vertx.createWebSocketClient();
    try {
      ws.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(broker.port())
          .setURI("/stream/" + subject + "?token=" + token)).await().close().await();
      return 101;
    } catch (UpgradeRejectedException e) {
      return e.getStatus();
    } finally {
      ws.close().await();
    }
  }

  private static HttpResponse<Buffer> getMetrics(String bearer) {
    return http.get(broker.port(), "127.0.0.1", "/metrics").putHeader("Authorization", "Bearer " + bearer).send().await();
  }

  @Test
  void aSocketToASubjectOutsideTheTokenIsRefusedBeforeTheUpgrade() {
    String token = token(grant(List.of("orders.>"), List.of("audit.*")), 60);
    assertEquals(101, upgradeStatus("orders.eu", token));
    assertEquals(101, upgradeStatus("audit.eu", token));
    assertEquals(403, upgradeStatus("billing.eu", token));
    assertEquals(403, upgradeStatus("audit.eu.paris", token));
  }

  @Test
  void publishAndCommandsOutsideTheScopeGetAForbiddenReply() {
    String readOnly = token(grant(List.of(), List.of("prices.>")), 60);
    String writer = token(grant(List.of("prices.>"), List.of()), 60);
    try (V1TestClient reader = V1TestClient.connect(vertx, broker.port(), "prices.eur", readOnly);
         V1TestClient producer = V1TestClient.connect(vertx, broker.port(), "prices.eur", writer)) {
      JsonObject refused = reader.request(new JsonObject().put("price", 1));
      assertEquals("forbidden", refused.getJsonObject("error").getString("code"));
      JsonObject refusedState = reader.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject()));
      assertEquals("forbidden", refusedState.getJsonObject("error").getString("code"));

      assertEquals(1L, producer.request(new JsonObject().put("price", 2)).getLong("sequence"));
      JsonObject refusedSubscribe = producer.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      assertEquals("forbidden", refusedSubscribe.getJsonObject("error").getString("code"));

      JsonObject subscribed = reader.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      assertEquals(1L, subscribed.getLong("sequence"), "the refused publish stored nothing");
      assertEquals(2, reader.nextPush().getJsonObject("data").getInteger("price"));
    }
  }

  @Test
  void expiredForgedAndMisaddressedTokensAre401() {
    JsonObject all = grant(List.of(">"), List.of(">"));
    String expired = issuer.generateToken(new JsonObject().put("dstream", all)
            .put("exp", System.currentTimeMillis() / 1000 - 60),
        new JWTOptions().setIssuer("dstream-test").setAudience(List.of("brokers")));
    assertEquals(401, upgradeStatus("a", expired));
    JWTAuth forger = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer("another-secret-another-secret-another")));
    String forged = forger.generateToken(new JsonObject().put("dstream", all),
        new JWTOptions().setIssuer("dstream-test").setAudience(List.of("brokers")));
    assertEquals(401, upgradeStatus("a", forged));
    String wrongIssuer = issuer.generateToken(new JsonObject().put("dstream", all),
        new JWTOptions().setIssuer("someone-else").setAudience(List.of("brokers")));
    assertEquals(401, upgradeStatus("a", wrongIssuer));
    String wrongAudience = issuer.generateToken(new JsonObject().put("dstream", all),
        new JWTOptions().setIssuer("dstream-test").setAudience(List.of("other-service")));
    assertEquals(401, upgradeStatus("a", wrongAudience));
    String notYet = issuer.generateToken(new JsonObject().put("dstream", all)
            .put("nbf", System.currentTimeMillis() / 1000 + 3600),
        new JWTOptions().setIssuer("dstream-test").setAudience(List.of("brokers")));
    assertEquals(401, upgradeStatus("a", notYet));
    String badPattern = token(grant(List.of("a.>.b"), List.of()), 60);
    assertEquals(401, upgradeStatus("a", badPattern));
  }

  @Test
  void aSocketIsClosedWhenItsTokenExpires() throws Exception {
    try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "expiring", token(grant(List.of(">"), List.of(">")), 2))) {
      assertEquals(1L, client.request(new JsonObject().put("n", 1)).getLong("sequence"));
      assertEquals((short) 1008, client.closed.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void metricsNeedAdminWhileTheApiKeyKeepsFullAccess() {
    assertEquals(403, getMetrics(token(grant(List.of(">"), List.of(">")), 60)).statusCode());
    JsonObject admin = grant(List.of(), List.of()).put("admin", true);
    assertEquals(200, getMetrics(token(admin, 60)).statusCode());
    assertEquals(200, getMetrics(TestBroker.API_KEY).statusCode());
    HttpResponse<Buffer> bad = getMetrics("not-a-token");
    assertEquals(401, bad.statusCode());
    assertTrue(bad.bodyAsJsonObject().getJsonObject("error").getString("message").startsWith("invalid token"));
  }

  @Test
  void theAdminApiNeedsAdminToo() {
    java.util.function.Function<String, Integer> listSubjects = bearer -> http.get(broker.port(), "127.0.0.1",
        "/admin/subjects").putHeader("Authorization", "Bearer " + bearer).send().await().statusCode();
    assertEquals(403, listSubjects.apply(token(grant(List.of(">"), List.of(">")), 60)));
    assertEquals(200, listSubjects.apply(token(grant(List.of(), List.of()).put("admin", true), 60)));
    assertEquals(200, listSubjects.apply(TestBroker.API_KEY));
  }

  @Test
  void rs256AndEs256PublicKeysVerifyTokensSignedWithTheirPrivateKeys() throws Exception {
    for (String[] kind : new String[][] {{"RSA", "RS256", "2048"}, {"EC", "ES256", "256"}}) {
      java.security.KeyPairGenerator generator = java.security.KeyPairGenerator.getInstance(kind[0]);
      generator.initialize(Integer.parseInt(kind[2]));
      java.security.KeyPair pair = generator.generateKeyPair();
      String publicPem = pem("PUBLIC KEY", pair.getPublic().getEncoded());
      String privatePem = pem("PRIVATE KEY", pair.getPrivate().getEncoded());
      JWTAuth signer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
          new PubSecKeyOptions().setAlgorithm(kind[1]).setBuffer(privatePem)));
      String signed = signer.generateToken(new JsonObject().put("dstream", grant(List.of(">"), List.of(">"))),
          new JWTOptions().setAlgorithm(kind[1]).setExpiresInSeconds(60));
      try (TestBroker keyed = TestBroker.start(vertx, b -> b.jwt(new JwtSettings(null, publicPem, null, List.of())))) {
        try (V1TestClient client = V1TestClient.connect(vertx, keyed.port(), "signed", signed)) {
          assertEquals(1L, client.request(new JsonObject().put("alg", kind[1])).getLong("sequence"));
        }
      }
    }
    assertThrows(IllegalArgumentException.class, () -> JwtAuthenticator.algorithmOf("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----"));
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + java.util.Base64.getMimeEncoder(64, "\n".getBytes()).encodeToString(der)
        + "\n-----END " + type + "-----\n";
  }

  /** Signs {@code claims} with the test secret by hand: issuers refuse to put a non-number in exp. */
  private static String handSigned(JsonObject claims) throws Exception {
    java.util.Base64.Encoder b64 = java.util.Base64.getUrlEncoder().withoutPadding();
    String signingInput = b64.encodeToString("{\"alg\":\"HS256\",\"typ\":\"JWT\"}".getBytes(StandardCharsets.UTF_8))
        + "." + b64.encodeToString(claims.encode().getBytes(StandardCharsets.UTF_8));
    javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
    mac.init(new javax.crypto.spec.SecretKeySpec(SECRET.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
    return signingInput + "." + b64.encodeToString(mac.doFinal(signingInput.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void nonNumericTimeClaimsAre401NotA500() throws Exception {
    JsonObject valid = new JsonObject().put("sub", "alice").put("iss", "dstream-test").put("aud", "brokers")
        .put("dstream", grant(List.of(">"), List.of(">")).put("admin", true));
    assertEquals(200, getMetrics(handSigned(valid)).statusCode(), "the hand-signed token itself is fine");
    for (String claim : new String[] {"exp", "nbf", "iat"}) {
      HttpResponse<Buffer> answer = getMetrics(handSigned(valid.copy().put(claim, "soon")));
      assertEquals(401, answer.statusCode(), claim + " as a string");
      assertEquals("unauthorized", answer.bodyAsJsonObject().getJsonObject("error").getString("code"));
    }
  }
}
