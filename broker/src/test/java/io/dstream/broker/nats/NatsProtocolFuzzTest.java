package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.api.StreamConfiguration;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A seeded fuzz of the NATS text protocol: malformed lines, wrong byte counts, oversize payloads and
 * random bytes, each on its own connection. Every one is answered or closed, the broker keeps
 * serving, and what was acknowledged before is still there, byte for byte.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class NatsProtocolFuzzTest {

  private static final long SEED = 20261204L;
  private static final int CASES = 300;
  private static final int MAX_PAYLOAD = 64 * 1024;
  /** The one kind of input that may be quiet: random bytes need not form a line. */
  private static final int RANDOM_BYTES = 7;
  private static Vertx vertx;
  private static TestBroker broker;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    NatsSettings nats = NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT);
    broker = TestBroker.start(vertx, b -> b.nats(new NatsSettings(nats.port(), MAX_PAYLOAD, nats.maxControlLine(),
        nats.maxPendingBytes(), nats.maxSubscriptions(), nats.authTimeout(), nats.ephemeral())));
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  @Test
  void malformedInputNeverCrashesTheBrokerNorLosesAcknowledgedMessages() throws Exception {
    int port = broker.broker().natsPort();
    byte[][] kept = new byte[50][];
    try (Connection nc = JnatsClientTest.connect(port, TestBroker.API_KEY)) {
      nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("KEPT").subjects("fuzz.kept").build());
      for (int i = 0; i < kept.length; i++) {
        kept[i] = ("kept message " + i).getBytes(StandardCharsets.UTF_8);
        assertEquals(i + 1, nc.jetStream().publish("fuzz.kept", kept[i]).getSeqno());
      }
    }
    Random random = new Random(SEED);
    long deadline = System.nanoTime() + 60_000_000_000L;
    for (int i = 0; i < CASES && System.nanoTime() < deadline; i++) {
      int kind = random.nextInt(9);
      byte[] input = malformed(kind, random);
      String response = exchange(port, input);
      if (kind != RANDOM_BYTES) {
        assertTrue(response.contains("-ERR '"), "case " + i + " (kind " + kind + ") got no -ERR: " + response);
      }
    }
    try (Connection nc = JnatsClientTest.connect(port, TestBroker.API_KEY)) {
      JetStreamManagement jsm = nc.jetStreamManagement();
      assertEquals(kept.length, jsm.getStreamInfo("KEPT").getStreamState().getMsgCount());
      for (int i = 0; i < kept.length; i++) {
        assertArrayEquals(kept[i], jsm.getMessage("KEPT", i + 1).getData());
      }
      assertEquals(kept.length + 1, nc.jetStream().publish("fuzz.kept", new byte[] {1}).getSeqno());
    }
  }

  /**
   * What nats-server accepts is accepted: operation names in any case, tabs and repeated blanks
   * between arguments, a bare newline, a subject repeated and then changed (the parser keeps the
   * last one), every one stored with its own bytes and acknowledged with its sequence.
   */
  @Test
  void publishesInEverySpellingNatsServerAcceptsAreStored() throws Exception {
    int port = broker.broker().natsPort();
    String connect = "CONNECT {\"auth_token\":\"" + TestBroker.API_KEY + "\",\"verbose\":false}\r\n";
    String input = connect + "SUB _INBOX.spell.* 1\r\n"
        + "pub spell.a _INBOX.spell.1 2\r\nA1\r\n"
        + "PUB\tspell.a \t_INBOX.spell.2\t 2\nA2\r\n"
        + "Pub spell.b _INBOX.spell.3 2\r\nB1\r\n"
        + "hpub spell.a _INBOX.spell.4 12 14\r\nNATS/1.0\r\n\r\nA3\r\n"
        + "PING\r\n";
    String response = exchange(port, input.getBytes(StandardCharsets.ISO_8859_1));
    assertTrue(response.contains("PONG"), response);
    for (String ack : new String[] {"\"seq\":1", "\"seq\":2", "\"seq\":3"}) {
      assertTrue(response.contains(ack), ack + " in " + response);
    }
    try (Connection nc = JnatsClientTest.connect(port, TestBroker.API_KEY)) {
      JetStreamManagement jsm = nc.jetStreamManagement();
      jsm.addStream(StreamConfiguration.builder().name("SPELL_A").subjects("spell.a").build());
      jsm.addStream(StreamConfiguration.builder().name("SPELL_B").subjects("spell.b").build());
      assertEquals(3, jsm.getStreamInfo("SPELL_A").getStreamState().getMsgCount());
      for (int i = 1; i <= 3; i++) {
        assertArrayEquals(("A" + i).getBytes(StandardCharsets.UTF_8), jsm.getMessage("SPELL_A", i).getData());
      }
      assertArrayEquals("B1".getBytes(StandardCharsets.UTF_8), jsm.getMessage("SPELL_B", 1).getData());
    }
  }

  /** One bad input of {@code kind} after a valid CONNECT (or instead of it, which is a violation too). */
  private static byte[] malformed(int kind, Random random) {
    String connect = "CONNECT {\"auth_token\":\"" + TestBroker.API_KEY + "\",\"verbose\":false}\r\n";
    String body = switch (kind) {
      case 0 -> "PUB fuzz.a 5\r\nhello world, more than five\r\n";
      case 1 -> "PUB fuzz.a " + (MAX_PAYLOAD + 1 + random.nextInt(1000)) + "\r\n";
      case 2 -> "HPUB fuzz.a 40 12\r\nNATS/1.0\r\n\r\nxx\r\n";
      case 3 -> "SUB\r\nPUB\r\nUNSUB\r\n";
      case 4 -> "PUB fuzz.a -3\r\n";
      case 5 -> "X".repeat(5000) + "\r\n";
      case 6 -> "PUB fuzz..a 1\r\nx\r\nPUB fuzz.* 1\r\nx\r\nPING\r\n";
      case RANDOM_BYTES -> new String(randomBytes(random), StandardCharsets.ISO_8859_1);
      default -> "CONNECT {not json\r\n";
    };
    String input = random.nextInt(5) == 0 ? body : connect + body;
    return input.getBytes(StandardCharsets.ISO_8859_1);
  }

  private static byte[] randomBytes(Random random) {
    byte[] bytes = new byte[1 + random.nextInt(2000)];
    random.nextBytes(bytes);
    return bytes;
  }

  /** Sends {@code input} and reads until the broker closes the connection or goes quiet. */
  private static String exchange(int port, byte[] input) throws IOException {
    try (Socket socket = new Socket("127.0.0.1", port)) {
      socket.setSoTimeout(300);
      try {
        socket.getOutputStream().write(input);
      } catch (IOException e) {
        // The broker may close before it has read everything: that is an answer too.
      }
      ByteArrayOutputStream seen = new ByteArrayOutputStream();
      InputStream in = socket.getInputStream();
      byte[] chunk = new byte[8192];
      try {
        for (int n; (n = in.read(chunk)) > 0 && seen.size() < 1 << 20; ) {
          seen.write(chunk, 0, n);
        }
      } catch (SocketTimeoutException e) {
        // Quiet: the input was accepted as a prefix of something longer.
      } catch (IOException e) {
        // Reset by the broker after its -ERR.
      }
      String text = seen.toString(StandardCharsets.ISO_8859_1);
      int info = text.indexOf("\r\n");
      return info < 0 ? "" : text.substring(info + 2);
    }
  }
}
