package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.nats.client.PublishOptions;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The NATS client protocol with the jnats client, over real sockets against a real broker. */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class JnatsClientTest {

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

  static Connection connect(int port, String token) throws Exception {
    return Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + port).token(token.toCharArray())
        .noReconnect().connectionTimeout(WAIT).build());
  }

  private static Connection connect() throws Exception {
    return connect(broker.broker().natsPort(), TestBroker.API_KEY);
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void aBadTokenIsRefusedAndAJwtIsScopedPerSubject() throws Exception {
    assertThrows(Exception.class, () -> connect(broker.broker().natsPort(), "wrong"));
    String token = issuer.generateToken(new JsonObject().put("dstream", new JsonObject()
        .put("pub", new JsonArray().add("jwt.allowed.>")).put("sub", new JsonArray().add("jwt.>"))),
        new JWTOptions().setSubject("bob").setExpiresInSeconds(300));
    List<String> errors = new java.util.concurrent.CopyOnWriteArrayList<>();
    ErrorListener listener = new ErrorListener() {
      @Override
      public void errorOccurred(Connection conn, String error) {
        errors.add(error);
      }
    };
    try (Connection nc = Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + broker.broker().natsPort())
        .token(token.toCharArray()).noReconnect().errorListener(listener).build());
         Connection admin = connect()) {
      JetStream js = nc.jetStream();
      assertEquals(1, js.publish("jwt.allowed.one", bytes("x")).getSeqno());
      // Outside the pub scope: nats-server's permission error, no PubAck, and nothing stored.
      assertThrows(Exception.class, () -> js.publish("jwt.denied", bytes("x"),
          PublishOptions.builder().streamTimeout(Duration.ofSeconds(2)).build()));
      Subscription refused = nc.subscribe("other.>");
      Subscription allowed = nc.subscribe("jwt.>");
      nc.flush(WAIT);
      admin.publish("other.x", bytes("hidden"));
      admin.publish("jwt.x", bytes("shown"));
      assertEquals("jwt.x", allowed.nextMessage(WAIT).getSubject());
      assertNull(refused.nextMessage(Duration.ofMillis(300)));
      assertTrue(errors.stream().anyMatch(e -> e.contains("Permissions Violation for Publish to \"jwt.denied\"")), errors.toString());
      assertTrue(errors.stream().anyMatch(e -> e.contains("Permissions Violation for Subscription to \"other.>\"")), errors.toString());
    }
    try (Connection nc = connect()) {
      assertEquals(1, nc.jetStream().publish("jwt.denied", bytes("y")).getSeqno(), "the refused publish stored nothing");
    }
  }

  @Test
  void publishesAreAcknowledgedWithGapFreeSequencesDedupAndExpectedLastSequence() throws Exception {
    try (Connection nc = connect()) {
      JetStream js = nc.jetStream();
      PublishAck first = js.publish("acks.one", bytes("a"));
      assertEquals("acks.one", first.getStream(), "an undeclared subject is its own stream");
      assertEquals(1, first.getSeqno());
      assertEquals(2, js.publish("acks.one", bytes("b")).getSeqno());
      assertEquals(1, js.publish("acks.two", bytes("c")).getSeqno(), "every subject has its own sequence");
      PublishOptions once = PublishOptions.builder().messageId("order-7").build();
      PublishAck stored = js.publish("acks.one", bytes("d"), once);
      PublishAck repeated = js.publish("acks.one", bytes("d"), once);
      assertEquals(3, stored.getSeqno());
      assertFalse(stored.isDuplicate());
      assertEquals(3, repeated.getSeqno());
      assertTrue(repeated.isDuplicate());
      assertEquals(4, js.publish("acks.one", bytes("e"), PublishOptions.builder().expectedLastSequence(3).build())
          .getSeqno());
      JetStreamApiException wrong = assertThrows(JetStreamApiException.class, () -> js.publish("acks.one", bytes("f"),
          PublishOptions.builder().expectedLastSequence(3).build()));
      assertEquals(10071, wrong.getApiErrorCode());
      assertEquals(5, js.publish("acks.one", bytes("g")).getSeqno(), "the refused publish took no sequence");
    }
  }

  @Test
  void wildcardSubscriptionsGetMessagesOfSubjectsCreatedLaterWithHeaders() throws Exception {
    try (Connection nc = connect()) {
      Subscription all = nc.subscribe("wild.>");
      Subscription one = nc.subscribe("wild.*.created");
      nc.flush(WAIT);
      Headers headers = new Headers().add("Trace", "t-1");
      nc.publish(NatsMessage.builder().subject("wild.later.created").headers(headers).data(bytes("first")).build());
      nc.publish("wild.deeper.still.created", bytes("second"));
      // Two subjects are two streams: each keeps its order, but not one across both.
      Map<String, Message> bySubject = new java.util.HashMap<>();
      for (int i = 0; i < 2; i++) {
        Message got = all.nextMessage(WAIT);
        assertNotNull(got);
        bySubject.put(got.getSubject(), got);
      }
      Message first = bySubject.get("wild.later.created");
      assertEquals("first", new String(first.getData(), StandardCharsets.UTF_8));
      assertEquals("t-1", first.getHeaders().getFirst("Trace"));
      assertEquals("second", new String(bySubject.get("wild.deeper.still.created").getData(), StandardCharsets.UTF_8));
      assertEquals("wild.later.created", one.nextMessage(WAIT).getSubject());
      assertNull(one.nextMessage(Duration.ofMillis(300)), "'*' matches exactly one token");
    }
  }

  @Test
  void requestsToAServiceGetItsReplyNoRespondersFailFastAndQueueGroupsShare() throws Exception {
    try (Connection service = connect(); Connection client = connect()) {
      Dispatcher echo = service.createDispatcher(m -> service.publish(m.getReplyTo(), m.getData()));
      echo.subscribe("svc.echo");
      Map<String, AtomicInteger> served = new ConcurrentHashMap<>();
      for (String member : List.of("a", "b")) {
        service.createDispatcher(m -> {
          served.computeIfAbsent(member, k -> new AtomicInteger()).incrementAndGet();
          service.publish(m.getReplyTo(), bytes(member));
        }).subscribe("svc.work", "workers");
      }
      service.flush(WAIT);
      Message reply = client.request("svc.echo", bytes("ping"), WAIT);
      assertNotNull(reply, "a request to a service gets the service's reply");
      assertEquals("ping", new String(reply.getData(), StandardCharsets.UTF_8), "not a PubAck");
      long started = System.nanoTime();
      assertThrows(Exception.class, () -> client.request("svc.nobody", bytes("x")).get(10, TimeUnit.SECONDS));
      assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(5), "no responders fails at once");
      for (int i = 0; i < 40; i++) {
        assertNotNull(client.request("svc.work", bytes("job"), WAIT));
      }
      assertEquals(40, served.values().stream().mapToInt(AtomicInteger::get).sum(), "each request served once");
      assertEquals(2, served.size(), "both members of the queue group served some");
    }
  }

  @Test
  void aStreamIsOneLiteralSubjectWithInfoPurgeGetAndDelete() throws Exception {
    try (Connection nc = connect()) {
      JetStreamManagement jsm = nc.jetStreamManagement();
      JetStreamApiException refused = assertThrows(JetStreamApiException.class, () -> jsm.addStream(
          StreamConfiguration.builder().name("MANY").subjects("many.a", "many.b").storageType(StorageType.File).build()));
      assertTrue(refused.getMessage().contains("exactly one subject or one wildcard pattern"), refused.getMessage());
      assertEquals(10052, refused.getApiErrorCode());
      assertThrows(JetStreamApiException.class, () -> jsm.addStream(
          StreamConfiguration.builder().name("EVERYTHING").subjects(">").build()), "a pattern over every subject");
      jsm.addStream(StreamConfiguration.builder().name("ORDERS").subjects("jsm.orders").storageType(StorageType.File)
          .build());
      JetStream js = nc.jetStream();
      for (int i = 1; i <= 5; i++) {
        PublishAck ack = js.publish("jsm.orders", bytes("order " + i));
        assertEquals("ORDERS", ack.getStream());
        assertEquals(i, ack.getSeqno());
      }
      StreamInfo info = jsm.getStreamInfo("ORDERS");
      assertEquals(5, info.getStreamState().getMsgCount());
      assertEquals(5, info.getStreamState().getLastSequence());
      assertEquals(1, info.getConfiguration().getReplicas(), "one copy on a single node");
      assertNull(info.getClusterInfo(), "no cluster block on a single node, as from a lone nats-server");
      assertTrue(jsm.getStreamNames().contains("ORDERS"));
      MessageInfo second = jsm.getMessage("ORDERS", 2);
      assertArrayEquals(bytes("order 2"), second.getData());
      assertEquals(2, jsm.purgeStream("ORDERS", io.nats.client.PurgeOptions.builder().sequence(3).build())
          .getPurged());
      assertEquals(1, jsm.purgeStream("ORDERS", io.nats.client.PurgeOptions.builder().keep(2).build())
          .getPurged());
      assertEquals(4, jsm.getStreamInfo("ORDERS").getStreamState().getFirstSequence());
      assertTrue(jsm.deleteStream("ORDERS"));
      assertThrows(JetStreamApiException.class, () -> jsm.getStreamInfo("ORDERS"));
      assertEquals(1, js.publish("jsm.orders", bytes("again")).getSeqno(), "a deleted stream starts again at 1");
    }
  }

  @Test
  void acknowledgedMessagesAndStreamsSurviveARestart() throws Exception {
    List<byte[]> published = new ArrayList<>();
    try (Connection nc = connect()) {
      nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("KEPT").subjects("restart.kept").build());
      JetStream js = nc.jetStream();
      for (int i = 0; i < 20; i++) {
        byte[] payload = bytes("kept " + i);
        js.publish("restart.kept", payload);
        published.add(payload);
      }
    }
    broker.stop();
    broker.restart();
    try (Connection nc = connect()) {
      JetStreamManagement jsm = nc.jetStreamManagement();
      assertEquals(20, jsm.getStreamInfo("KEPT").getStreamState().getMsgCount());
      for (int i = 0; i < published.size(); i++) {
        assertArrayEquals(published.get(i), jsm.getMessage("KEPT", i + 1).getData());
      }
      assertEquals(21, nc.jetStream().publish("restart.kept", bytes("after")).getSeqno());
    }
  }
}
