package io.dstream.broker.hostile;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Protocol v1 under hostile input: each attack gets a clear error (or a close of the attacker's own
 * socket), and a bystander on the same subject keeps publishing and reading with nothing lost.
 */
class WebSocketHostileInputTest {

  private static final String SUBJECT = "hostile.ws";
  private static final String PATH = "/stream/" + SUBJECT + "?apiKey=" + TestBroker.API_KEY;
  private static Vertx vertx;
  private static TestBroker broker;
  private static V1TestClient bystander;
  private static final List<Long> bystanderSequences = new ArrayList<>();

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx);
    bystander = V1TestClient.connect(vertx, broker.port(), SUBJECT, TestBroker.API_KEY);
  }

  @AfterAll
  static void stop() {
    bystander.close();
    broker.close();
    vertx.close().await();
  }

  /** After every attack the bystander's publish works and every earlier one is still there. */
  @AfterEach
  void bystanderIsUnaffected() {
    JsonObject reply = bystander.request(new JsonObject().put("bystander", bystanderSequences.size()));
    bystanderSequences.add(reply.getLong("sequence"));
    try (V1TestClient reader = V1TestClient.connect(vertx, broker.port(), SUBJECT, TestBroker.API_KEY)) {
      reader.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      List<Long> seen = new ArrayList<>();
      long last = reply.getLong("sequence");
      for (long expected = 1; expected <= last; expected++) {
        JsonObject push = reader.nextPush();
        assertEquals(expected, push.getLong("sequence"), "gap in the log after an attack");
        if (push.getJsonObject("data").containsKey("bystander")) {
          seen.add(push.getLong("sequence"));
        }
        reader.ack(push);
      }
      assertEquals(bystanderSequences, seen, "a bystander's message went missing");
    }
  }

  private static String errorCode(String frame) {
    return new JsonObject(frame).getJsonObject("error").getString("code");
  }

  @Test
  void deeplyNestedJsonIsRefused() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      String nested = "[".repeat(10_000) + "]".repeat(10_000);
      raw.text("{\"data\":" + nested + ",\"cMsgId\":1,\"clientId\":1}");
      assertEquals("invalid_json", errorCode(raw.nextText()));
    }
  }

  @Test
  void hugeNumbersAreStoredAsTheirExactTokens() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      String huge = "1" + "0".repeat(400);
      raw.text("{\"data\":{\"n\":" + huge + ",\"e\":1e999999},\"cMsgId\":1,\"clientId\":1}");
      String reply = raw.nextText();
      assertTrue(reply.contains("\"n\":" + huge), reply);
      assertTrue(reply.contains("\"sequence\":"), reply);
      raw.text("{\"data\":{\"cmd\":\"subscribe\",\"startSequence\":" + huge + "},\"cMsgId\":2,\"clientId\":1}");
      assertTrue(raw.nextText().contains("\"cMsgId\":2"));
    }
  }

  @Test
  void invalidUtf8InATextFrameClosesOnlyThatSocket() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      byte[] frame = "{\"data\":\"xx\",\"cMsgId\":1,\"clientId\":1}".getBytes(StandardCharsets.UTF_8);
      frame[10] = (byte) 0xC3;
      frame[11] = (byte) 0x28;
      raw.frame(RawWebSocket.TEXT, true, frame);
      assertEquals(1007, raw.closeCode.get(10, TimeUnit.SECONDS), "the RFC 6455 close code, not a dropped connection");
    }
  }

  @Test
  void protocolViolationsCloseWith1002NotADroppedConnection() throws Exception {
    int reservedOpcode = 0x3;
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      raw.frame(reservedOpcode, true, new byte[] {1});
      assertEquals(1002, raw.closeCode.get(10, TimeUnit.SECONDS));
    }
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      raw.frame(RawWebSocket.CONTINUATION, true, "no message to continue".getBytes(StandardCharsets.UTF_8));
      assertEquals(1002, raw.closeCode.get(10, TimeUnit.SECONDS));
    }
  }

  @Test
  void binaryFramesAreRefusedWithAnError() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      raw.frame(RawWebSocket.BINARY, true, new byte[] {0, 1, 2, (byte) 0xff});
      assertEquals("binary_frame", errorCode(raw.nextText()));
    }
  }

  @Test
  void fragmentedFramesAreReassembledIntoOneMessage() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      raw.frame(RawWebSocket.TEXT, false, "{\"data\":{\"frag".getBytes(StandardCharsets.UTF_8));
      raw.frame(RawWebSocket.CONTINUATION, false, "mented\":true},".getBytes(StandardCharsets.UTF_8));
      raw.frame(RawWebSocket.CONTINUATION, true, "\"cMsgId\":7,\"clientId\":1}".getBytes(StandardCharsets.UTF_8));
      JsonObject reply = new JsonObject(raw.nextText());
      assertEquals(true, reply.getJsonObject("data").getBoolean("fragmented"));
      assertTrue(reply.getLong("sequence") > 0);
    }
  }

  @Test
  void oversizeFragmentedMessageClosesTheSocketWith1009() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      byte[] chunk = new byte[512 * 1024];
      java.util.Arrays.fill(chunk, (byte) 'x');
      raw.frame(RawWebSocket.TEXT, false, chunk);
      raw.frame(RawWebSocket.CONTINUATION, false, chunk);
      raw.frame(RawWebSocket.CONTINUATION, true, chunk);
      int code = raw.closeCode.get(10, TimeUnit.SECONDS);
      assertTrue(code == 1009 || code == -1, "closed with " + code);
    }
  }

  @Test
  void malformedFramesUnknownCommandsAndUnknownAcksGetErrors() throws Exception {
    try (RawWebSocket raw = RawWebSocket.connect(vertx, broker.port(), PATH)) {
      raw.text("{\"data\":");
      assertEquals("invalid_json", errorCode(raw.nextText()));
      raw.text("[1,2,3]");
      assertEquals("invalid_json", errorCode(raw.nextText()));
      raw.text("{\"data\":{\"cmd\":\"dropEverything\"},\"cMsgId\":3,\"clientId\":1}");
      assertEquals("unknown_command", errorCode(raw.nextText()));
      raw.text("{\"data\":{},\"sMsgId\":123456789,\"clientId\":1}");
      assertEquals("unknown_ack", errorCode(raw.nextText()));
      raw.text("{\"data\":1,\"cMsgId\":1,\"cMsgId\":2,\"clientId\":1}");
      assertEquals("invalid_json", errorCode(raw.nextText()));
    }
  }

  /** Hundreds of connections that never send a byte neither stop service nor stay forever. */
  @Test
  void aFloodOfSilentConnectionsDoesNotStopService() throws Exception {
    NetClient tcp = vertx.createNetClient();
    List<NetSocket> silent = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      silent.add(tcp.connect(broker.port(), "127.0.0.1").await());
    }
    try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), SUBJECT, TestBroker.API_KEY)) {
      assertTrue(client.request(new JsonObject().put("during", "flood")).getLong("sequence") > 0);
    }
    tcp.close().await();
    assertEquals(300, silent.size());
  }
}
