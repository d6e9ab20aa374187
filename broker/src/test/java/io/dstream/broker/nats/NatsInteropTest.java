package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.config.NatsSettings;
import io.dstream.broker.ws.V1TestClient;
import io.nats.client.Connection;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The NATS protocol next to the others: NATS and protocol v1 see the same messages of a subject in
 * the same order, jnats works over {@code /nats} (WebSocket), and a subscriber that never reads is
 * closed at its pending limit without costing the broker more; a PONG follows the commits of the
 * publishes read before its PING; a subscription made after a subject's first messages gets the
 * next ones.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class NatsInteropTest {

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long MAX_PENDING = 256 * 1024;
  private static Vertx vertx;
  private static TestBroker broker;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    NatsSettings nats = NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT);
    broker = TestBroker.start(vertx, b -> b.nats(new NatsSettings(nats.port(), nats.maxPayload(), nats.maxControlLine(),
        MAX_PENDING, nats.maxSubscriptions(), nats.authTimeout(), nats.ephemeral())));
  }

  /** Every case closes its clients: the next one starts once the broker has released them all. */
  @BeforeEach
  void earlierClientsReleased() throws InterruptedException {
    awaitOpenConnections(0);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static byte[] bytes(String text) {
    return text.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void natsAndV1SubscribersSeeTheSameMessagesInTheSameOrder() throws Exception {
    String subject = "interop.orders";
    try (Connection nc = JnatsClientTest.connect(broker.broker().natsPort(), TestBroker.API_KEY);
         V1TestClient v1 = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
      Subscription nats = nc.subscribe("interop.>");
      nc.flush(WAIT);
      v1.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      v1.request(new JsonObject().put("n", 1));
      nc.jetStream().publish(NatsMessage.builder().subject(subject).headers(new Headers().add("K", "v"))
          .data(bytes("{\"n\":2}")).build());
      nc.jetStream().publish(subject, bytes("plain text"));
      v1.request("a v1 string");

      assertEquals("{\"n\":1}", new String(nats.nextMessage(WAIT).getData(), StandardCharsets.UTF_8));
      Message second = nats.nextMessage(WAIT);
      assertEquals("{\"n\":2}", new String(second.getData(), StandardCharsets.UTF_8));
      assertEquals("v", second.getHeaders().getFirst("K"));
      assertEquals("plain text", new String(nats.nextMessage(WAIT).getData(), StandardCharsets.UTF_8));
      assertEquals("a v1 string", new String(nats.nextMessage(WAIT).getData(), StandardCharsets.UTF_8));

      JsonObject[] pushes = new JsonObject[4];
      for (int i = 0; i < 4; i++) {
        pushes[i] = v1.nextPush();
        assertEquals(i + 1L, pushes[i].getLong("sequence"));
        v1.ack(pushes[i]);
      }
      assertEquals(new JsonObject().put("n", 1), pushes[0].getJsonObject("data"));
      assertEquals(new JsonObject().put("n", 2), pushes[1].getJsonObject("data"), "a JSON payload is JSON data");
      assertTrue(pushes[1].getString("headers").matches("(?s)NATS/1.0\r\nK: ?v\r\n.*"), pushes[1].getString("headers"));
      assertEquals("plain text", pushes[2].getString("data"), "other text is a string");
      assertEquals("a v1 string", pushes[3].getString("data"));
    }
  }

  private static double openConnections() {
    return broker.broker().metrics().registry().find("dstream_connections").gauge().value();
  }

  @Test
  void jnatsWorksOverTheWebSocketTransport() throws Exception {
    double before = openConnections();
    try (Connection nc = Nats.connect(new Options.Builder().server("ws://127.0.0.1:" + broker.port() + "/nats")
        .token(TestBroker.API_KEY.toCharArray()).noReconnect().connectionTimeout(WAIT).build())) {
      Subscription sub = nc.subscribe("overws.*");
      nc.flush(WAIT);
      assertEquals(1, nc.jetStream().publish("overws.one", bytes("hello")).getSeqno());
      assertEquals("hello", new String(sub.nextMessage(WAIT).getData(), StandardCharsets.UTF_8));
      assertEquals(before + 1, openConnections(), "counted under DSTREAM_MAX_CONNECTIONS");
    }
    assertEquals(before, awaitOpenConnections(before), "and released when it closes");
  }

  /**
   * Waits (at most {@link #WAIT}) until the broker counts {@code count} open connections, and returns
   * its count: a closed client is released once the broker has seen the close.
   */
  private static double awaitOpenConnections(double count) throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (openConnections() != count && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    return openConnections();
  }

  @Test
  void natsConnectionsCountUnderTheConnectionLimit() throws Exception {
    ConnectionLimits one = ConnectionLimits.DEFAULT;
    one = new ConnectionLimits(1, one.requestsPerSecond(), one.requestBurst(), one.slowConsumerGrace(),
        one.maxActiveSubjects(), one.idleTimeout(), one.requestHeaderTimeout(), one.pingInterval());
    ConnectionLimits limits = one;
    try (TestBroker small = TestBroker.start(vertx, b -> b.connectionLimits(limits)
        .nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)));
         Connection first = JnatsClientTest.connect(small.broker().natsPort(), TestBroker.API_KEY);
         Socket second = new Socket("127.0.0.1", small.broker().natsPort())) {
      second.setSoTimeout(10_000);
      String refused = new String(second.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
      assertEquals("-ERR 'maximum connections exceeded'\r\n", refused);
      assertEquals(1, first.jetStream().publish("limit.one", bytes("x")).getSeqno(), "the first one is served");
    }
  }

  @Test
  void aSubscriberThatNeverReadsIsClosedAtItsPendingLimit() throws Exception {
    double slowBefore = broker.broker().metrics().natsSlowConsumers.count();
    try (Socket idle = new Socket("127.0.0.1", broker.broker().natsPort());
         Connection publisher = JnatsClientTest.connect(broker.broker().natsPort(), TestBroker.API_KEY)) {
      OutputStream out = idle.getOutputStream();
      out.write(("CONNECT {\"auth_token\":\"" + TestBroker.API_KEY + "\"}\r\nSUB slow.> 1\r\nPING\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = idle.getInputStream();
      byte[] info = new byte[4096];
      String seen = "";
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (!seen.contains("PONG") && System.nanoTime() < deadline) {
        int n = in.read(info);
        seen += new String(info, 0, Math.max(0, n), StandardCharsets.US_ASCII);
      }
      byte[] payload = new byte[16 * 1024];
      int published = 0;
      // Far more than the pending limit and the socket buffers, until the broker gives up on the reader
      // (bounded: 4000 messages, 60 s).
      long publishing = System.nanoTime() + 6 * WAIT.toNanos();
      while (published < 4000 && broker.broker().metrics().natsSlowConsumers.count() == slowBefore
          && System.nanoTime() < publishing) {
        publisher.publish("slow.feed", payload);
        if (++published % 64 == 0) {
          publisher.flush(WAIT);
        }
      }
      long closedBy = System.nanoTime() + WAIT.toNanos();
      boolean closed = false;
      idle.setSoTimeout(1000);
      byte[] sink = new byte[64 * 1024];
      while (!closed && System.nanoTime() < closedBy) {
        try {
          closed = in.read(sink) < 0;
        } catch (SocketTimeoutException e) {
          // Reading only now, after the broker had to decide: it must have closed the connection.
        } catch (SocketException e) {
          closed = true;
        }
      }
      assertTrue(closed, "the slow consumer's connection was closed");
      assertEquals(slowBefore + 1, broker.broker().metrics().natsSlowConsumers.count());
      assertEquals(1, publisher.jetStream().publish("slow.after", bytes("fine")).getSeqno(), "others are unaffected");
      long drained = System.nanoTime() + WAIT.toNanos();
      double held;
      do {
        held = broker.broker().metrics().registry().find("dstream_memory_budget_held_bytes").gauge().value();
      } while (held > 0 && System.nanoTime() < drained);
      assertEquals(0.0, held, "what the slow consumer held was released");
    }
  }

  @Test
  void aPongLeavesOnlyOnceThePublishesReadBeforeItsPingAreDurable() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", broker.broker().natsPort())) {
      socket.setSoTimeout((int) WAIT.toMillis());
      OutputStream out = socket.getOutputStream();
      // Three subjects (three actors, three commits), then two PINGs with nothing between them and a
      // third after one more publish: five PubAcks, three PONGs, each PONG after the PubAcks before it.
      out.write(("CONNECT {\"auth_token\":\"" + TestBroker.API_KEY + "\"}\r\nSUB _INBOX.pong.* 1\r\n"
          + "PUB pong.a _INBOX.pong.1 1\r\na\r\nPUB pong.b _INBOX.pong.2 1\r\nb\r\n"
          + "PUB pong.c _INBOX.pong.3 1\r\nc\r\nPING\r\nPING\r\n"
          + "PUB pong.a _INBOX.pong.4 1\r\nd\r\nPING\r\nPUB pong.b _INBOX.pong.5 1\r\ne\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = socket.getInputStream();
      StringBuilder seen = new StringBuilder();
      byte[] chunk = new byte[4096];
      while (countOf(seen, "PONG") < 3 || countOf(seen, "MSG _INBOX.pong.") < 5) {
        int n = in.read(chunk);
        assertTrue(n > 0, "the connection closed after: " + seen);
        seen.append(new String(chunk, 0, n, StandardCharsets.US_ASCII));
      }
      String wire = seen.toString();
      int firstPong = wire.indexOf("PONG");
      int lastPong = wire.lastIndexOf("PONG");
      for (int reply = 1; reply <= 3; reply++) {
        int ack = wire.indexOf("MSG _INBOX.pong." + reply + " ");
        assertTrue(ack >= 0 && ack < firstPong, "PubAck " + reply + " before the first PONG: " + wire);
      }
      int fourth = wire.indexOf("MSG _INBOX.pong.4 ");
      assertTrue(fourth >= 0 && fourth < lastPong, "PubAck 4 before the third PONG: " + wire);
      assertEquals(3, countOf(seen, "PONG"), wire);
    }
  }

  @Test
  void aSubscriptionMadeAfterASubjectsFirstMessagesGetsTheNextOnes() throws Exception {
    try (Connection publisher = JnatsClientTest.connect(broker.broker().natsPort(), TestBroker.API_KEY);
         Connection subscriber = JnatsClientTest.connect(broker.broker().natsPort(), TestBroker.API_KEY)) {
      // The actor asks once per task whether anyone listens (LogReader#taskStarted): nobody did here.
      assertEquals(1, publisher.jetStream().publish("late.sub", bytes("unheard")).getSeqno());
      Subscription late = subscriber.subscribe("late.sub");
      subscriber.flush(WAIT);
      assertEquals(2, publisher.jetStream().publish("late.sub", bytes("heard")).getSeqno());
      Message message = late.nextMessage(WAIT);
      assertTrue(message != null, "the message published after the subscription reached it");
      assertEquals("heard", new String(message.getData(), StandardCharsets.UTF_8));
    }
  }

  private static int countOf(CharSequence text, String part) {
    String all = text.toString();
    int count = 0;
    for (int at = all.indexOf(part); at >= 0; at = all.indexOf(part, at + 1)) {
      count++;
    }
    return count;
  }
}
