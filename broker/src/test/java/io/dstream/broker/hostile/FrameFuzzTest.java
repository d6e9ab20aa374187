package io.dstream.broker.hostile;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A bounded randomized fuzzer: a few thousand frames, mutated from valid protocol v1 frames, sent
 * over raw sockets (reconnecting whenever the broker closes one). Afterwards the broker still
 * answers, a canary subject written before the fuzzing is intact byte for byte, and the fuzzed
 * subject's log has no gap. The seed is printed so a failure can be replayed with
 * {@code -Ddstream.fuzz.seed=N}.
 */
@ExtendWith(VertxExtension.class)
class FrameFuzzTest {

  private static final int FRAMES = 3_000;
  private static final String[] COMMANDS = {"subscribe", "unsubscribe", "getStreamInfo", "getServerInfo", "getState",
      "putState", "deleteMessages", "publish", "", "SUBSCRIBE", "constructor", "__proto__"};
  private static final String[] VALUES = {"0", "-1", "1e999", "1" + "0".repeat(30), "-0.5", "null", "true", "\"x\"",
      "[]", "{}", "\"\\u0000\"", "\"\\ud800\"", "NaN", "Infinity", "9007199254740993", "[[[[[[[[]]]]]]]]"};

  @Test
  void randomFramesNeitherStopTheBrokerNorTouchStoredData(Vertx vertx) throws Exception {
    long seed = Long.getLong("dstream.fuzz.seed", System.nanoTime());
    System.out.println("FrameFuzzTest seed: " + seed);
    Random random = new Random(seed);
    try (TestBroker broker = TestBroker.start(vertx)) {
      List<String> canary = new ArrayList<>();
      JsonObject state = new JsonObject().put("canary", true);
      try (V1TestClient writer = V1TestClient.connect(vertx, broker.port(), "canary", TestBroker.API_KEY)) {
        for (int i = 0; i < 50; i++) {
          canary.add(writer.request(new JsonObject().put("i", i).put("text", "ünïcødé " + i)).encode());
        }
        writer.request(new JsonObject().put("cmd", "putState").put("state", state));
      }

      RawWebSocket raw = null;
      int reconnects = 0;
      for (int i = 0; i < FRAMES; i++) {
        if (raw == null || raw.closeCode.isDone()) {
          if (raw != null) {
            raw.close();
            reconnects++;
          }
          raw = RawWebSocket.connect(vertx, broker.port(), "/stream/fuzz?apiKey=" + TestBroker.API_KEY);
        }
        sendRandomFrame(raw, random);
        awaitAnswerOrClose(raw);
      }
      raw.close();

      assertEquals(200, WebClient.create(vertx).get(broker.port(), "127.0.0.1", "/health").send().await().statusCode());
      try (V1TestClient reader = V1TestClient.connect(vertx, broker.port(), "canary", TestBroker.API_KEY)) {
        assertEquals(state, reader.command("getState").getJsonObject("state"));
        reader.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
        for (int i = 0; i < canary.size(); i++) {
          String push = V1TestClient.take(reader.pushes, 10);
          assertEquals(canary.get(i), new JsonObject(push.substring(0, push.lastIndexOf(",\"pub\":1,")) + "}").encode());
          reader.ack(new JsonObject(push));
        }
      }
      try (V1TestClient reader = V1TestClient.connect(vertx, broker.port(), "fuzz", TestBroker.API_KEY)) {
        JsonObject info = reader.command("getStreamInfo").getJsonObject("stream");
        long first = info.getLong("firstSequence");
        long last = info.getLong("lastSequence");
        assertEquals(Math.max(0, last - first + 1), info.getLong("messages").longValue(), "gap in the fuzzed log");
      }
      System.out.println("FrameFuzzTest: " + FRAMES + " frames, " + reconnects + " sockets closed by the broker");
    }
  }

  /** Every frame is answered (a reply, an error) or closes the socket; wait for one so no frame goes to a dead socket. */
  private static void awaitAnswerOrClose(RawWebSocket raw) throws InterruptedException {
    for (int waited = 0; waited < 2_000 && !raw.closeCode.isDone(); waited += 5) {
      if (raw.texts.poll(5, java.util.concurrent.TimeUnit.MILLISECONDS) != null) {
        return;
      }
    }
  }

  private static void sendRandomFrame(RawWebSocket raw, Random random) {
    String valid = validFrame(random);
    switch (random.nextInt(8)) {
      case 0 -> raw.text(valid);
      case 1 -> raw.text(valid.substring(0, random.nextInt(valid.length())));
      case 2 -> {
        byte[] bytes = valid.getBytes(StandardCharsets.UTF_8);
        for (int flips = 1 + random.nextInt(3); flips > 0; flips--) {
          bytes[random.nextInt(bytes.length)] = (byte) random.nextInt(256);
        }
        raw.frame(RawWebSocket.TEXT, true, bytes);
      }
      case 3 -> {
        byte[] bytes = new byte[random.nextInt(64)];
        random.nextBytes(bytes);
        raw.frame(random.nextBoolean() ? RawWebSocket.BINARY : RawWebSocket.TEXT, true, bytes);
      }
      case 4 -> {
        int cut = random.nextInt(valid.length());
        raw.frame(RawWebSocket.TEXT, false, valid.substring(0, cut).getBytes(StandardCharsets.UTF_8));
        raw.frame(RawWebSocket.CONTINUATION, true, valid.substring(cut).getBytes(StandardCharsets.UTF_8));
      }
      case 5 -> raw.text("{\"data\":{},\"sMsgId\":" + VALUES[random.nextInt(VALUES.length)] + ",\"clientId\":1}");
      case 6 -> raw.text("{\"data\":" + "[".repeat(random.nextInt(300)) + "]".repeat(random.nextInt(300))
          + ",\"cMsgId\":1,\"clientId\":1}");
      default -> raw.text(valid.replace("\"cMsgId\"", random.nextBoolean() ? "\"cmsgid\"" : "\"cMsgId\":1,\"cMsgId\""));
    }
  }

  private static String validFrame(Random random) {
    String value = VALUES[random.nextInt(VALUES.length)];
    String data = random.nextInt(3) == 0 ? "{\"payload\":" + value + "}"
        : "{\"cmd\":\"" + COMMANDS[random.nextInt(COMMANDS.length)] + "\",\"startSequence\":" + value
            + ",\"sequence\":" + value + ",\"state\":" + value + "}";
    return "{\"data\":" + data + ",\"cMsgId\":" + value + ",\"clientId\":" + random.nextInt(10) + "}";
  }
}
