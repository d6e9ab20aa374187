package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The replay-to-live hand-over: subscribers that start replaying while two sockets publish receive
 * every sequence exactly once, in order.
 */
class ReplayHandoverTest {

  private static final String SUBJECT = "handover.test";
  private static final int BEFORE = 3_000;
  private static final int PER_PUBLISHER = 5_000;
  private static final int TOTAL = BEFORE + 2 * PER_PUBLISHER;

  private Vertx vertx;
  private TestBroker broker;

  @BeforeEach
  void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx);
  }

  @AfterEach
  void stop() {
    broker.close();
    vertx.close().await();
  }

  @Test
  void threeSubscribersSeeEverySequenceOnceInOrderWhileTwoSocketsPublish() throws Exception {
    try (V1TestClient seed = connect()) {
      publish(seed, BEFORE, "seed");
    }
    List<V1TestClient> clients = new ArrayList<>();
    ExecutorService threads = Executors.newFixedThreadPool(5);
    try {
      List<Future<Integer>> subscribers = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        V1TestClient subscriber = connect();
        clients.add(subscriber);
        subscriber.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
        subscribers.add(threads.submit(() -> receiveAll(subscriber)));
      }
      List<Future<Set<Long>>> publishers = new ArrayList<>();
      for (int p = 0; p < 2; p++) {
        V1TestClient publisher = connect();
        clients.add(publisher);
        String tag = "p" + p;
        publishers.add(threads.submit(() -> publish(publisher, PER_PUBLISHER, tag)));
      }
      Set<Long> acknowledged = new HashSet<>();
      for (Future<Set<Long>> publisher : publishers) {
        acknowledged.addAll(publisher.get(120, TimeUnit.SECONDS));
      }
      assertEquals(2 * PER_PUBLISHER, acknowledged.size(), "every publish got its own sequence");
      for (Future<Integer> subscriber : subscribers) {
        assertEquals(TOTAL, subscriber.get(120, TimeUnit.SECONDS));
      }
    } finally {
      clients.forEach(V1TestClient::close);
      threads.shutdownNow();
    }
  }

  private V1TestClient connect() {
    return V1TestClient.connect(vertx, broker.port(), SUBJECT, TestBroker.API_KEY);
  }

  /** Pipelines {@code count} publishes and returns the acknowledged sequences. */
  private static Set<Long> publish(V1TestClient client, int count, String tag) {
    for (int i = 0; i < count; i++) {
      client.send(new JsonObject().put("from", tag).put("i", i));
    }
    Set<Long> sequences = new HashSet<>();
    for (int i = 0; i < count; i++) {
      JsonObject reply = client.nextReply();
      assertTrue(reply.containsKey("sequence"), reply::encode);
      sequences.add(reply.getLong("sequence"));
    }
    return sequences;
  }

  /** Receives and acks pushes, failing on any gap, repeat or reordering. */
  private static int receiveAll(V1TestClient subscriber) {
    long expected = 1;
    while (expected <= TOTAL) {
      JsonObject push = subscriber.nextPush();
      assertEquals(expected, push.getLong("sequence"), "gap, duplicate or reordering at the hand-over");
      subscriber.ack(push);
      expected++;
    }
    return (int) (expected - 1);
  }
}
