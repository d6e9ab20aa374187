package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A replay from the store reads whole pages and keeps what is beyond the ack window in the actor's
 * {@link FetchedPages}, shared by its subscribers: every sequence still arrives once and in order at
 * each of them, and messages deleted meanwhile are not pushed from a kept page.
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

  @Test
  void subscribersReplayingTogetherShareThePagesAndEachGetsEverySequenceOnce() throws Exception {
    int subscribers = 4;
    int messages = 120;
    try (V1TestClient publisher = V1TestClient.connect(vertx, broker.port(), "ahead.shared", TestBroker.API_KEY)) {
      for (int i = 0; i < messages; i++) {
        publisher.request(i);
      }
      List<V1TestClient> clients = new ArrayList<>();
      try {
        for (int c = 0; c < subscribers; c++) {
          V1TestClient client = V1TestClient.connect(vertx, broker.port(), "ahead.shared", TestBroker.API_KEY);
          clients.add(client);
          client.command("subscribe");
        }
        // Round robin, a few acks each, so the subscribers move through the same pages at once.
        long[] next = new long[subscribers];
        Arrays.fill(next, 1);
        while (Arrays.stream(next).anyMatch(n -> n <= messages)) {
          for (int c = 0; c < subscribers; c++) {
            for (int k = 0; k < 3 && next[c] <= messages; k++) {
              JsonObject push = clients.get(c).nextPush();
              assertEquals(next[c], push.getLong("sequence"), "subscriber " + c);
              assertEquals((int) next[c] - 1, push.getInteger("data"));
              clients.get(c).ack(push);
              next[c]++;
            }
          }
        }
        for (V1TestClient client : clients) {
          assertNull(client.pushes.poll(200, TimeUnit.MILLISECONDS), "a push after the last message");
        }
      } finally {
        clients.forEach(V1TestClient::close);
      }
    }
  }
}
