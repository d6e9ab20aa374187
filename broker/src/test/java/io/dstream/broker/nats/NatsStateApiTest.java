package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The versioned state over NATS ({@code $DS.STATE.GET/PUT/WATCH}, docs/protocol-nats.md) with jnats,
 * over real sockets: revisions, a conflicting put, watches of one subject and of a pattern, and JWT scopes.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException
class NatsStateApiTest {

  private static final String SECRET = "a-test-secret-that-is-long-enough-for-hs256";
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static Vertx vertx;
  private static TestBroker broker;
  private static JWTAuth issuer;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx, b -> b.jwt(new JwtSettings(SECRET, null, null, List.of()))
        .nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)));
    issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
        new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static Connection connect(String token) throws Exception {
    return JnatsClientTest.connect(broker.broker().natsPort(), token);
  }

  private static JsonObject request(Connection nc, String subject, Headers headers, String body) throws Exception {
    Message reply = nc.request(NatsMessage.builder().subject(subject).headers(headers)
        .data(body.getBytes(StandardCharsets.UTF_8)).build(), WAIT);
    return new JsonObject(new String(reply.getData(), StandardCharsets.UTF_8));
  }

  private static JsonObject put(Connection nc, String subject, String state, Long expected) throws Exception {
    Headers headers = expected == null ? null : new Headers().put("Ds-Expected-Revision", expected.toString());
    return request(nc, "$DS.STATE.PUT." + subject, headers, state);
  }

  private static JsonObject get(Connection nc, String subject) throws Exception {
    return request(nc, "$DS.STATE.GET." + subject, null, "");
  }

  private static long revisionOf(Message watched) {
    return Long.parseLong(watched.getHeaders().getFirst("Ds-Revision"));
  }

  @Test
  void putsCountRevisionsAndAnExpectedRevisionThatDoesNotMatchWritesNothing() throws Exception {
    try (Connection nc = connect(TestBroker.API_KEY)) {
      JsonObject never = get(nc, "kv.cas");
      assertEquals(0L, never.getLong("revision"));
      assertEquals(new JsonObject(), never.getJsonObject("state"));
      assertEquals(1L, put(nc, "kv.cas", "{\"n\":1}", null).getLong("revision"));
      assertEquals(2L, put(nc, "kv.cas", "{\"n\":2}", 1L).getLong("revision"));
      JsonObject conflict = put(nc, "kv.cas", "{\"n\":3}", 1L).getJsonObject("error");
      assertEquals(10071, conflict.getInteger("err_code"));
      assertEquals("wrong revision: expected 1, state is at revision 2", conflict.getString("description"));
      JsonObject current = get(nc, "kv.cas");
      assertEquals(new JsonObject().put("subject", "kv.cas").put("state", new JsonObject().put("n", 2)).put("revision", 2),
          current);
      assertEquals(400, put(nc, "kv.cas", "[1]", null).getJsonObject("error").getInteger("code"));
      assertEquals(3L, put(nc, "kv.cas", "{}", null).getLong("revision"), "a put without an expected revision always goes");
      JsonObject badHeader = put(nc, "kv.cas", "{}", -1L).getJsonObject("error");
      assertEquals(10003, badHeader.getInteger("err_code"));
      assertEquals(3L, get(nc, "kv.cas").getLong("revision"));
      assertEquals("this credential may not change the state of 'ds.stream'",
          put(nc, "ds.stream", "{}", null).getJsonObject("error").getString("description"), "the broker's own subjects");
    }
  }

  @Test
  void aWatchOfOneSubjectGetsTheCurrentStateFirstThenEveryChangeInOrder() throws Exception {
    try (Connection writer = connect(TestBroker.API_KEY); Connection watcher = connect(TestBroker.API_KEY)) {
      put(writer, "kv.watched", "{\"n\":0}", null);
      Subscription watch = watcher.subscribe("$DS.STATE.WATCH.kv.watched");
      Message first = watch.nextMessage(WAIT);
      assertEquals("$DS.STATE.WATCH.kv.watched", first.getSubject());
      assertEquals("kv.watched", first.getHeaders().getFirst("Ds-Subject"));
      assertEquals(1, revisionOf(first));
      assertEquals("{\"n\":0}", new String(first.getData(), StandardCharsets.UTF_8));
      for (int n = 1; n <= 20; n++) {
        put(writer, "kv.watched", "{\"n\":" + n + "}", null);
      }
      for (int n = 1; n <= 20; n++) {
        Message change = watch.nextMessage(WAIT);
        assertEquals(n + 1, revisionOf(change));
        assertEquals(n, new JsonObject(new String(change.getData(), StandardCharsets.UTF_8)).getInteger("n"));
      }
      assertNull(watch.nextMessage(Duration.ofMillis(200)), "each change once");
    }
  }

  @Test
  void aPatternWatchSeesChangesOfEveryMatchingSubjectAndScopesApply() throws Exception {
    String reader = issuer.generateToken(new JsonObject().put("dstream", new JsonObject()
        .put("pub", new JsonArray()).put("sub", new JsonArray().add("kv.mine.>"))),
        new JWTOptions().setSubject("reader").setExpiresInSeconds(300));
    try (Connection writer = connect(TestBroker.API_KEY); Connection scoped = connect(reader)) {
      Subscription pattern = scoped.subscribe("$DS.STATE.WATCH.kv.mine.>");
      Subscription outside = scoped.subscribe("$DS.STATE.WATCH.kv.>");
      scoped.flush(WAIT);
      put(writer, "kv.mine.a", "{\"a\":1}", null);
      put(writer, "kv.other", "{\"o\":1}", null);
      put(writer, "kv.mine.b.c", "{\"b\":1}", null);
      Message a = pattern.nextMessage(WAIT);
      Message b = pattern.nextMessage(WAIT);
      assertEquals("kv.mine.a", a.getHeaders().getFirst("Ds-Subject"));
      assertEquals("kv.mine.b.c", b.getHeaders().getFirst("Ds-Subject"));
      assertEquals(1, revisionOf(b));
      assertNull(outside.nextMessage(Duration.ofMillis(300)), "a watch outside the sub scope is refused");
      assertEquals(1L, get(scoped, "kv.mine.a").getLong("revision"), "reading needs sub rights");
      assertEquals("this credential may not read the state of 'kv.other'",
          get(scoped, "kv.other").getJsonObject("error").getString("description"));
      assertEquals("this credential may not change the state of 'kv.mine.a'",
          put(scoped, "kv.mine.a", "{}", null).getJsonObject("error").getString("description"));
      assertEquals(1L, get(writer, "kv.mine.a").getLong("revision"), "the refused put wrote nothing");
    }
  }
}
