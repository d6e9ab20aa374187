package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Idle actors leave memory and come back from the store: 10,000 subjects touched once, then no
 * actor stays active, and every subject sampled rehydrates with its sequence.
 */
@ExtendWith(VertxExtension.class)
class HibernationTest {

  private static final int SUBJECTS = 10_000;
  private static final int CONCURRENCY = 100;

  @Test
  void idleActorsAreReleasedAndRehydrateFromTheStore(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.idleTimeout(Duration.ofMillis(500)))) {
      WebSocketClient client = vertx.createWebSocketClient();
      for (int start = 0; start < SUBJECTS; start += CONCURRENCY) {
        List<Future<Void>> round = new ArrayList<>();
        for (int i = start; i < start + CONCURRENCY; i++) {
          round.add(touch(client, broker.port(), "idle.subject" + i));
        }
        Future.all(round).await();
      }
      WebClient http = WebClient.create(vertx);
      long deadline = System.currentTimeMillis() + 20_000;
      double active;
      do {
        Thread.sleep(200);
        active = metric(http, broker.port(), "dstream_actors_active");
      } while (active > 0 && System.currentTimeMillis() < deadline);
      assertEquals(0.0, active, "actors still in memory after the idle timeout");
      assertTrue(metric(http, broker.port(), "dstream_actors_hibernated_total") >= SUBJECTS);

      Random random = new Random(7);
      for (int i = 0; i < 50; i++) {
        String subject = "idle.subject" + random.nextInt(SUBJECTS);
        try (V1TestClient c = V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY)) {
          JsonObject info = c.command("getStreamInfo");
          assertEquals(1L, info.getLong("sequence"), subject);
          assertEquals(1L, info.getJsonObject("stream").getLong("messages"), subject);
          assertEquals(2L, c.request("again").getLong("sequence"), subject);
          c.command("subscribe");
          assertEquals(subject, c.nextPush().getJsonObject("data").getString("subject"));
        }
      }
    }
  }

  /** Connects, publishes one message, waits for its reply, closes. */
  private static Future<Void> touch(WebSocketClient client, int port, String subject) {
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/stream/" + subject + "?apiKey=" + TestBroker.API_KEY);
    return client.connect(options).compose(socket -> {
      io.vertx.core.Promise<Void> replied = io.vertx.core.Promise.promise();
      socket.textMessageHandler(text -> replied.tryComplete());
      socket.writeTextMessage(new JsonObject().put("data", new JsonObject().put("subject", subject))
          .put("cMsgId", 1).put("clientId", 1).encode());
      return replied.future().compose(v -> socket.close());
    });
  }

  static double metric(WebClient http, int port, String name) {
    String body = http.get(port, "127.0.0.1", "/metrics").putHeader("Authorization", "Bearer " + TestBroker.API_KEY)
        .send().await().bodyAsString();
    Matcher m = Pattern.compile("(?m)^" + name + "(?:\\{[^}]*\\})? ([0-9.eE+-]+)$").matcher(body);
    assertTrue(m.find(), name + " missing from /metrics");
    return Double.parseDouble(m.group(1));
  }
}
