package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replay from the store reads whole pages and keeps what is beyond the ack window as read-ahead:
 * every sequence still arrives once and in order, and messages deleted meanwhile are not pushed
 * from the read-ahead.
 */
class ReplayReadAheadTest {

  private static final int MESSAGES = 300;

  private Vertx vertx;
  private TestBroker broker;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    // A tail cache of 4 makes the replay read from the store; a window of 8 leaves most of each page ahead.
    broker = TestBroker.start(vertx, b -> b.maxInFlight(8).actorCacheMessages(4));
  }

  @AfterEach
  void stop() {
    broker.close();
    vertx.close().await();
  }

  @Test
  void everySequenceArrivesOnceInOrderThroughTheReadAhead() {
    try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "ahead", TestBroker.API_KEY)) {
      for (int i = 0; i < MESSAGES; i++) {
        client.request(i);
      }
      client.command("subscribe");
      for (long expected = 1; expected <= MESSAGES; expected++) {
        JsonObject push = client.nextPush();
        assertEquals(expected, push.getLong("sequence"));
        assertEquals((int) expected - 1, push.getInteger("data"));
        client.ack(push);
      }
    }
  }

  @Test
  void messagesDeletedDuringTheReplayAreNotPushedFromTheReadAhead() throws Exception {
    try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "ahead.deleted", TestBroker.API_KEY)) {
      for (int i = 0; i < MESSAGES; i++) {
        client.request(i);
      }
      client.command("subscribe");
      List<Long> sequences = new ArrayList<>();
      for (int i = 0; i < 20; i++) {
        JsonObject push = client.nextPush();
        sequences.add(push.getLong("sequence"));
        client.ack(push);
      }
      client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 200));
      while (sequences.get(sequences.size() - 1) < MESSAGES) {
        JsonObject push = client.nextPush();
        sequences.add(push.getLong("sequence"));
        client.ack(push);
      }
      assertNull(client.pushes.poll(300, TimeUnit.MILLISECONDS), "a push after the last message");
      for (int i = 1; i < sequences.size(); i++) {
        assertTrue(sequences.get(i) > sequences.get(i - 1), "out of order or repeated: " + sequences);
      }
      // 20 acked before the deletion, so at most 8 more (21..28) were in flight when it arrived.
      assertEquals(0, sequences.stream().filter(s -> s > 28 && s <= 200).count(),
          "deleted messages pushed from the read-ahead: " + sequences);
      assertEquals(100, sequences.stream().filter(s -> s > 200).count());
    }
  }
}
