package io.dstream.broker.stream;

import io.dstream.broker.BrokerProcess;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * kill -9 under pipelined load: after a restart every acknowledged message is there with identical
 * bytes, sequences are gap-free and continue, and the state object is intact.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class CrashRecoveryTest {

  private static final String KEY = "crash-key";
  private static final String SUBJECT = "crash.test";

  @Test
  void everyAcknowledgedMessageSurvivesSigkillInSyncAlways(Vertx vertx) throws Exception {
    crashAndVerify(vertx, "always");
  }

  @Test
  void everyAcknowledgedMessageSurvivesSigkillInSyncOs(Vertx vertx) throws Exception {
    crashAndVerify(vertx, "os");
  }

  /**
   * Twenty kill -9 rounds on one data dir, each under pipelined load from two sockets after an
   * acknowledged state write: every restart finds every acknowledged sequence, no gap, the last
   * acknowledged state; a final replay finds every acknowledged message byte for byte.
   */
  @Test
  void twentySigkillRoundsLoseNoAcknowledgedMessage(Vertx vertx) throws Exception {
    Path dataDir = Files.createTempDirectory("dstream-crash-rounds");
    Map<Long, String> acknowledged = new ConcurrentHashMap<>();
    JsonObject lastState = null;
    for (int round = 1; round <= 20; round++) {
      BrokerProcess broker = BrokerProcess.start(dataDir, KEY, "--sync", "always");
      try (V1TestClient first = connect(vertx, broker); V1TestClient second = connect(vertx, broker)) {
        JsonObject info = first.command("getStreamInfo");
        long last = info.getLong("sequence");
        long maxAcked = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElse(0);
        assertTrue(last >= maxAcked, "round " + round + ": lost acknowledged sequences: " + last + " < " + maxAcked);
        assertEquals(last, info.getJsonObject("stream").getLong("messages"), "round " + round + ": gap in the log");
        if (lastState != null) {
          assertEquals(lastState, first.command("getState").getJsonObject("state"), "round " + round + ": state");
        }
        lastState = new JsonObject().put("round", round);
        first.request(new JsonObject().put("cmd", "putState").put("state", lastState));

        int before = acknowledged.size();
        AtomicBoolean killed = new AtomicBoolean();
        Thread a = loadThread(first, acknowledged, killed);
        Thread b = loadThread(second, acknowledged, killed);
        long deadline = System.currentTimeMillis() + 5_000;
        while (acknowledged.size() < before + 300 && System.currentTimeMillis() < deadline) {
          Thread.sleep(5);
        }
        broker.kill();
        killed.set(true);
        a.join(10_000);
        b.join(10_000);
        drain(first, acknowledged);
        drain(second, acknowledged);
      }
    }
    try (BrokerProcess restarted = BrokerProcess.start(dataDir, KEY, "--sync", "always");
         V1TestClient client = connect(vertx, restarted)) {
      assertEquals(lastState, client.command("getState").getJsonObject("state"));
      long last = client.command("getStreamInfo").getLong("sequence");
      client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      for (long expected = 1; expected <= last; expected++) {
        String push = V1TestClient.take(client.pushes, 10);
        JsonObject parsed = new JsonObject(push);
        assertEquals(expected, parsed.getLong("sequence"), "gap or duplicate after 20 crashes");
        String acked = acknowledged.get(expected);
        if (acked != null) {
          assertEquals(acked, push.substring(0, push.lastIndexOf(",\"pub\":1,")) + "}", "acknowledged message changed");
        }
        client.ack(parsed);
      }
      assertTrue(acknowledged.size() >= 20 * 100, "each round carried load: " + acknowledged.size());
    }
  }

  private static void crashAndVerify(Vertx vertx, String sync) throws Exception {
    Path dataDir = Files.createTempDirectory("dstream-crash");
    Map<Long, String> acknowledged = new ConcurrentHashMap<>();
    JsonObject state = new JsonObject().put("owner", "crash-test").put("version", 7);
    BrokerProcess broker = BrokerProcess.start(dataDir, KEY, "--sync", sync);
    try (V1TestClient first = connect(vertx, broker); V1TestClient second = connect(vertx, broker)) {
      first.request(new JsonObject().put("cmd", "putState").put("state", state));
      AtomicBoolean killed = new AtomicBoolean();
      Thread a = loadThread(first, acknowledged, killed);
      Thread b = loadThread(second, acknowledged, killed);
      long deadline = System.currentTimeMillis() + 20_000;
      while (acknowledged.size() < 3_000 && System.currentTimeMillis() < deadline) {
        Thread.sleep(20);
      }
      broker.kill();
      killed.set(true);
      a.join(10_000);
      b.join(10_000);
      drain(first, acknowledged);
      drain(second, acknowledged);
    }
    assertTrue(acknowledged.size() >= 3_000, "load reached the broker: " + acknowledged.size());

    try (BrokerProcess restarted = BrokerProcess.start(dataDir, KEY, "--sync", sync);
         V1TestClient client = connect(vertx, restarted)) {
      JsonObject info = client.command("getStreamInfo");
      long last = info.getLong("sequence");
      long maxAcked = acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElseThrow();
      assertTrue(last >= maxAcked, "lost acknowledged sequences: last " + last + " < " + maxAcked);
      assertEquals(last, info.getJsonObject("stream").getLong("messages"), "gap in the log");
      assertEquals(state, client.command("getState").getJsonObject("state"));

      client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      for (long expected = 1; expected <= last; expected++) {
        String push = V1TestClient.take(client.pushes, 10);
        JsonObject parsed = new JsonObject(push);
        assertEquals(expected, parsed.getLong("sequence"), "gap or duplicate after recovery");
        String stored = push.substring(0, push.lastIndexOf(",\"pub\":1,")) + "}";
        String acked = acknowledged.get(expected);
        if (acked != null) {
          assertEquals(acked, stored, "acknowledged message changed");
        }
        client.ack(parsed);
      }
      assertEquals(last + 1, client.request("after the crash").getLong("sequence"));
    }
  }

  /** Replies that arrived before the kill but were not read yet are acknowledgements too. */
  private static void drain(V1TestClient client, Map<Long, String> acknowledged) {
    String reply;
    while ((reply = client.replies.poll()) != null) {
      JsonObject parsed = new JsonObject(reply);
      if (parsed.containsKey("sequence")) {
        acknowledged.put(parsed.getLong("sequence"), reply);
      }
    }
  }

  private static V1TestClient connect(Vertx vertx, BrokerProcess broker) {
    return V1TestClient.connect(vertx, broker.port(), SUBJECT, KEY);
  }

  /** Publishes with up to 200 in flight, recording each acknowledged stored object by sequence. */
  private static Thread loadThread(V1TestClient client, Map<Long, String> acknowledged, AtomicBoolean killed) {
    Thread thread = new Thread(() -> {
      int inFlight = 0;
      try {
        while (!killed.get()) {
          while (inFlight < 200 && !killed.get()) {
            client.send(new JsonObject().put("payload", "x".repeat(100)).put("t", System.nanoTime()));
            inFlight++;
          }
          String reply = client.replies.poll(100, TimeUnit.MILLISECONDS);
          if (reply != null) {
            inFlight--;
            acknowledged.put(new JsonObject(reply).getLong("sequence"), reply);
          }
        }
      } catch (Exception stopped) {
        // the socket died with the broker: expected
      }
    }, "publisher");
    thread.start();
    return thread;
  }
}
