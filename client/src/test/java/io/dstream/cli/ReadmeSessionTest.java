package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.client.DurableStream;
import io.dstream.client.StreamConnection;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's raw WebSocket session, frame by frame against a real broker: every {@code >} line is
 * sent as written (an ack with the {@code sMsgId} of the push before it), and every {@code <} line
 * must be what the broker sends, exactly, but for the {@code sMsgId} value, which differs per run.
 * The CLI session before it left one message on the subject, so this test publishes one first.
 */
@ExtendWith(VertxExtension.class)
class ReadmeSessionTest {

  private static final String KEY = "readme-key";
  private static final long WAIT_SECONDS = 10;

  @Test
  void theReadmeFramesAreWhatTheBrokerSends(Vertx vertx, @TempDir Path dir) throws Exception {
    List<String> frames = readmeFrames();
    assertFalse(frames.isEmpty(), "the README has a session of > and < frames");
    Broker broker = Broker.start(vertx, BrokerConfig.builder().host("127.0.0.1").port(0).dataDir(dir).apiKey(KEY).build())
        .await(30, TimeUnit.SECONDS);
    WebSocketClient client = vertx.createWebSocketClient();
    try {
      StreamConnection cli = DurableStream.connect(vertx, "http://127.0.0.1:" + broker.port(), "orders.eu", KEY)
          .await(WAIT_SECONDS, TimeUnit.SECONDS);
      cli.publish(new JsonObject().put("item", "book")).await(WAIT_SECONDS, TimeUnit.SECONDS);
      cli.close().await(WAIT_SECONDS, TimeUnit.SECONDS);

      LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
      WebSocket socket = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(broker.port())
          .setURI("/stream/orders.eu?apiKey=" + KEY)).await(WAIT_SECONDS, TimeUnit.SECONDS);
      socket.textMessageHandler(received::add);
      Long lastDelivery = null;
      for (String frame : frames) {
        String text = frame.substring(2);
        if (frame.startsWith("> ")) {
          JsonObject sent = new JsonObject(text);
          if (sent.containsKey("sMsgId")) {
            assertNotNull(lastDelivery, "an ack follows a push");
            sent.put("sMsgId", lastDelivery);
          }
          socket.writeTextMessage(sent.encode()).await(WAIT_SECONDS, TimeUnit.SECONDS);
          continue;
        }
        String answer = received.poll(WAIT_SECONDS, TimeUnit.SECONDS);
        assertNotNull(answer, "the broker sends " + text);
        JsonObject actual = new JsonObject(answer);
        JsonObject expected = new JsonObject(text);
        if (actual.containsKey("sMsgId")) {
          lastDelivery = actual.getLong("sMsgId");
          expected.put("sMsgId", lastDelivery);
        }
        // Exactly what the README shows, field order included.
        assertEquals(expected.encode(), answer, "README frame " + text);
      }
      assertEquals(null, received.poll(300, TimeUnit.MILLISECONDS), "nothing more: the ack was accepted");
      assertTrue(lastDelivery != null && lastDelivery > 0);
    } finally {
      client.close().await(WAIT_SECONDS, TimeUnit.SECONDS);
      broker.stop().await(30, TimeUnit.SECONDS);
    }
  }

  /** The lines of the README's frame block that start with "> " or "< ". */
  private static List<String> readmeFrames() throws Exception {
    List<String> frames = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of("..", "README.md"), StandardCharsets.UTF_8)) {
      if (line.startsWith("> {") || line.startsWith("< {")) {
        frames.add(line);
      }
    }
    return frames;
  }
}
