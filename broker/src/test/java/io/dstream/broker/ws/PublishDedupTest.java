package io.dstream.broker.ws;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The dedup window: a publish marked {@code "dedup":true} is stored at most once per (clientId, cMsgId). */
@ExtendWith(VertxExtension.class)
class PublishDedupTest {

  private static String publish(String data, long cMsgId, long clientId, boolean dedup) {
    return "{\"data\":" + data + ",\"cMsgId\":" + cMsgId + ",\"clientId\":" + clientId
        + (dedup ? ",\"dedup\":true" : "") + "}";
  }

  private static JsonObject send(V1TestClient client, String frame) {
    client.sendRaw(frame);
    return client.nextReply();
  }

  private static long retained(V1TestClient client) {
    return client.command("getStreamInfo").getJsonObject("stream").getLong("messages");
  }

  @Test
  void aRepeatedPublishGetsTheOriginalSequenceAndIsNotStoredAgain(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx);
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.repeat", TestBroker.API_KEY)) {
      JsonObject first = send(client, publish("{\"n\":1}", 1, 77, true));
      send(client, publish("{\"n\":2}", 2, 77, true));
      JsonObject repeat = send(client, publish("{\"n\":1}", 1, 77, true));
      assertEquals(1L, first.getLong("sequence"));
      assertFalse(first.containsKey("duplicate"));
      assertEquals(1L, repeat.getLong("sequence"));
      assertTrue(repeat.getBoolean("duplicate"));
      assertEquals(1L, repeat.getLong("cMsgId"));
      assertEquals(2L, retained(client));
      assertEquals(3L, send(client, publish("{\"n\":1}", 1, 78, true)).getLong("sequence"),
          "another clientId with the same cMsgId is another message");
    }
  }

  @Test
  void publishesWithoutTheDedupMarkAreNeverDeduplicated(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx);
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.old.client", TestBroker.API_KEY)) {
      assertEquals(1L, send(client, publish("1", 5, 7, false)).getLong("sequence"));
      assertEquals(2L, send(client, publish("1", 5, 7, false)).getLong("sequence"));
      assertEquals(2L, retained(client));
    }
  }

  @Test
  void theWindowSurvivesABrokerRestartAndAReconnect(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx)) {
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.restart", TestBroker.API_KEY)) {
        for (int i = 1; i <= 3; i++) {
          send(client, publish(Integer.toString(i), i, 99, true));
        }
      }
      broker.stop();
      broker.restart();
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.restart", TestBroker.API_KEY)) {
        JsonObject repeat = send(client, publish("2", 2, 99, true));
        assertEquals(2L, repeat.getLong("sequence"));
        assertTrue(repeat.getBoolean("duplicate"));
        assertEquals(4L, send(client, publish("4", 4, 99, true)).getLong("sequence"));
        assertEquals(4L, retained(client));
      }
    }
  }

  @Test
  void theWindowSurvivesHibernation(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.idleTimeout(Duration.ofMillis(50)))) {
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.hibernate", TestBroker.API_KEY)) {
        send(client, publish("1", 1, 5, true));
      }
      double hibernated = broker.broker().metrics().actorsHibernated.count();
      long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (broker.broker().metrics().actorsHibernated.count() == hibernated && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertTrue(broker.broker().metrics().actorsHibernated.count() > hibernated, "the actor never hibernated");
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.hibernate", TestBroker.API_KEY)) {
        assertTrue(send(client, publish("1", 1, 5, true)).getBoolean("duplicate"));
        assertEquals(1L, retained(client));
      }
    }
  }

  @Test
  void destroyingTheSubjectForgetsTheWindow(Vertx vertx) throws Exception {
    WebClient http = WebClient.create(vertx);
    try (TestBroker broker = TestBroker.start(vertx)) {
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.destroy", TestBroker.API_KEY)) {
        send(client, publish("1", 1, 4, true));
        send(client, publish("2", 2, 4, true));
      }
      assertEquals(204, http.delete(broker.port(), "127.0.0.1", "/stream/dedup.destroy")
          .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await().statusCode());
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.destroy", TestBroker.API_KEY)) {
        JsonObject again = send(client, publish("2", 2, 4, true));
        assertEquals(1L, again.getLong("sequence"), "a new subject starts at 1");
        assertFalse(again.containsKey("duplicate"));
      }
    } finally {
      http.close();
    }
  }

  @Test
  void theWindowIsBoundedInEntries(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.dedupMaxEntries(2));
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "dedup.bounded", TestBroker.API_KEY)) {
      for (int i = 1; i <= 3; i++) {
        send(client, publish(Integer.toString(i), i, 3, true));
      }
      assertTrue(send(client, publish("3", 3, 3, true)).getBoolean("duplicate"));
      assertEquals(4L, send(client, publish("1", 1, 3, true)).getLong("sequence"), "the oldest entry was evicted");
    }
  }

  @Test
  void subscribeFromATimeStartsAtTheFirstMessagePublishedThen(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx);
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "time.seek", TestBroker.API_KEY)) {
      client.request("early 1");
      client.request("early 2");
      long before = System.currentTimeMillis();
      long deadline = before + 5_000;
      // Timestamps are milliseconds: let the clock move on so the next message is strictly later.
      while (System.currentTimeMillis() <= before + 1 && System.currentTimeMillis() < deadline) {
        Thread.sleep(1);
      }
      long startTime = System.currentTimeMillis();
      client.request("late 3");
      client.request(new JsonObject().put("cmd", "subscribe").put("startTime", startTime));
      assertEquals(3L, client.nextPush().getLong("sequence"));
      client.request(new JsonObject().put("cmd", "unsubscribe"));
      client.request(new JsonObject().put("cmd", "subscribe").put("startTime", startTime + 60_000));
      client.request("live 4");
      assertEquals(4L, client.nextPush().getLong("sequence"), "a time after the last message starts with the next");
      JsonObject refused = client.request(new JsonObject().put("cmd", "subscribe").put("startTime", "yesterday"));
      assertEquals("invalid_argument", refused.getJsonObject("error").getString("code"));
    }
  }
}
