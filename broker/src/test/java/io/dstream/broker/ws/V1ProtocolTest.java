package io.dstream.broker.ws;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Protocol v1 round trips as docs/protocol-v1.md describes them, over a real socket. */
class V1ProtocolTest {

  private static final AtomicInteger SUBJECTS = new AtomicInteger();
  private static Vertx vertx;
  private static TestBroker broker;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static String freshSubject() {
    return "proto.s" + SUBJECTS.incrementAndGet();
  }

  private static V1TestClient connect() {
    return connect(freshSubject());
  }

  private static V1TestClient connect(String subject) {
    return V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY);
  }

  @Test
  void publishRepliesWithTheStoredObjectAndSequencesStartAtOne() {
    try (V1TestClient client = connect()) {
      JsonObject first = client.request(new JsonObject().put("hello", "world"));
      assertEquals(1L, first.getLong("sequence"));
      assertEquals(new JsonObject().put("hello", "world"), first.getJsonObject("data"));
      assertEquals("127.0.0.1", first.getString("ip"));
      assertFalse(first.containsKey("pub"));
      assertTrue(first.containsKey("clientId"));
      assertEquals(2L, client.request("a string").getLong("sequence"));
      assertEquals(3L, client.request(new JsonArray().add(1).add(2)).getLong("sequence"));
    }
  }

  @Test
  void cMsgIdAndDataNumbersComeBackAsTheSameTokens() {
    try (V1TestClient client = connect()) {
      client.sendRaw("{\"data\":{\"x\":0.1000000000000000055511151231257827,\"big\":12345678901234567890123},"
          + "\"cMsgId\":1.4411767384520637,\"clientId\":0.4411767384520637}");
      String reply = V1TestClient.take(client.replies, 10);
      assertTrue(reply.contains("\"cMsgId\":1.4411767384520637,"), reply);
      assertTrue(reply.contains("\"clientId\":0.4411767384520637,"), reply);
      assertTrue(reply.contains("0.1000000000000000055511151231257827"), reply);
      assertTrue(reply.contains("12345678901234567890123"), reply);
    }
  }

  @Test
  void subscribeRepliesFirstThenReplaysThenGoesLive() {
    String subject = freshSubject();
    try (V1TestClient publisher = connect(subject); V1TestClient subscriber = connect(subject)) {
      for (int i = 1; i <= 5; i++) {
        publisher.request(new JsonObject().put("n", i));
      }
      JsonObject reply = subscriber.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 3));
      assertEquals(5L, reply.getLong("sequence"));
      for (long expected = 3; expected <= 5; expected++) {
        JsonObject push = subscriber.nextPush();
        assertEquals(expected, push.getLong("sequence"));
        assertEquals(1, push.getInteger("pub"));
        assertTrue(push.getLong("sMsgId") > 0);
        subscriber.ack(push);
      }
      publisher.request(new JsonObject().put("n", 6));
      JsonObject live = subscriber.nextPush();
      assertEquals(6L, live.getLong("sequence"));
      assertEquals(6, live.getJsonObject("data").getInteger("n"));
    }
  }

  @Test
  void publisherThatIsSubscribedGetsReplyThenPush() {
    try (V1TestClient client = connect()) {
      client.command("subscribe");
      client.request("self");
      JsonObject push = client.nextPush();
      assertEquals(1L, push.getLong("sequence"));
      assertEquals("self", push.getString("data"));
    }
  }

  @Test
  void secondSubscribeReplacesTheFirst() {
    try (V1TestClient client = connect()) {
      client.request("m1");
      client.request("m2");
      client.command("subscribe");
      assertEquals(1L, client.nextPush().getLong("sequence"));
      assertEquals(2L, client.nextPush().getLong("sequence"));
      client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 2));
      assertEquals(2L, client.nextPush().getLong("sequence"));
      JsonObject info = client.command("getStreamInfo");
      assertEquals(1, info.getJsonObject("stream").getInteger("subscribers"));
    }
  }

  @Test
  void streamInfoReportsSequencesCountsAndSubscribers() {
    try (V1TestClient client = connect()) {
      JsonObject empty = client.command("getStreamInfo");
      assertEquals(0L, empty.getLong("sequence"));
      assertEquals(0L, empty.getJsonObject("stream").getLong("messages"));
      client.request("x");
      client.request("y");
      JsonObject info = client.command("getServerInfo");
      assertEquals(2L, info.getLong("sequence"));
      JsonObject stream = info.getJsonObject("stream");
      assertEquals(1L, stream.getLong("firstSequence"));
      assertEquals(2L, stream.getLong("lastSequence"));
      assertEquals(2L, stream.getLong("messages"));
      assertTrue(stream.getLong("bytes") > 0);
      assertEquals(0, stream.getInteger("subscribers"));
      assertEquals("getServerInfo", info.getJsonObject("data").getString("cmd"));
    }
  }

  @Test
  void unsubscribeStopsPushes() throws InterruptedException {
    try (V1TestClient client = connect()) {
      client.command("subscribe");
      client.command("unsubscribe");
      client.request("after");
      assertNull(client.pushes.poll(300, TimeUnit.MILLISECONDS));
      assertEquals(0, client.command("getStreamInfo").getJsonObject("stream").getInteger("subscribers"));
    }
  }

  @Test
  void deleteMessagesKeepsTheLastSequence() {
    try (V1TestClient client = connect()) {
      for (int i = 0; i < 5; i++) {
        client.request(i);
      }
      JsonObject deleted = client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 3));
      assertEquals(5L, deleted.getLong("sequence"));
      JsonObject stream = client.command("getStreamInfo").getJsonObject("stream");
      assertEquals(4L, stream.getLong("firstSequence"));
      assertEquals(2L, stream.getLong("messages"));
      client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 100));
      JsonObject emptied = client.command("getStreamInfo").getJsonObject("stream");
      assertEquals(0L, emptied.getLong("messages"));
      assertEquals(5L, emptied.getLong("lastSequence"));
      assertEquals(6L, client.request("next").getLong("sequence"));
      client.command("subscribe");
      assertEquals(6L, client.nextPush().getLong("sequence"));
    }
  }

  @Test
  void deleteMessagesWithoutANumericSequenceIsAnErrorAndDeletesNothing() {
    try (V1TestClient client = connect()) {
      client.request("keep");
      for (JsonObject bad : new JsonObject[] {
          new JsonObject().put("cmd", "deleteMessages"),
          new JsonObject().put("cmd", "deleteMessages").put("sequence", "5"),
          new JsonObject().put("cmd", "deleteMessages").put("sequence", -1)}) {
        JsonObject reply = client.request(bad);
        assertEquals("invalid_argument", reply.getJsonObject("error").getString("code"));
      }
      assertEquals(1L, client.command("getStreamInfo").getJsonObject("stream").getLong("messages"));
    }
  }

  @Test
  void stateDefaultsToAnEmptyObjectAndRoundTrips() {
    try (V1TestClient client = connect()) {
      assertEquals(new JsonObject(), client.command("getState").getJsonObject("state"));
      JsonObject state = new JsonObject().put("lock", true).put("owner", "me").put("n", 3);
      JsonObject put = client.request(new JsonObject().put("cmd", "putState").put("state", state));
      assertNull(put.getJsonObject("error"));
      assertEquals(state, client.command("getState").getJsonObject("state"));
    }
  }

  @Test
  void putStateRefusesAnythingButAnObject() {
    try (V1TestClient client = connect()) {
      for (Object bad : new Object[] {"text", 5, new JsonArray().add(1)}) {
        JsonObject reply = client.request(new JsonObject().put("cmd", "putState").put("state", bad));
        assertEquals("invalid_argument", reply.getJsonObject("error").getString("code"));
      }
      JsonObject missing = client.request(new JsonObject().put("cmd", "putState"));
      assertEquals("invalid_argument", missing.getJsonObject("error").getString("code"));
      assertEquals(new JsonObject(), client.command("getState").getJsonObject("state"));
    }
  }

  @Test
  void unknownCommandIsAnErrorAndNotStored() {
    try (V1TestClient client = connect()) {
      JsonObject reply = client.command("launchMissiles");
      assertEquals("unknown_command", reply.getJsonObject("error").getString("code"));
      assertEquals(0L, client.command("getStreamInfo").getLong("sequence"));
    }
  }

  @Test
  void badFramesGetErrorsWithoutClosingTheSocket() {
    try (V1TestClient client = connect()) {
      client.sendRaw("not json");
      assertError(client, null, "invalid_json");
      client.sendRaw("[1,2]");
      assertError(client, null, "invalid_json");
      client.sendRaw("{\"data\":1}");
      assertError(client, null, "invalid_frame");
      client.sendRaw("{\"data\":1,\"cMsgId\":{}}");
      assertError(client, null, "invalid_frame");
      client.sendRaw("{\"cMsgId\":7}");
      assertError(client, "7", "invalid_frame");
      client.sendRaw("{\"data\":1,\"cMsgId\":7} trailing");
      assertError(client, null, "invalid_json");
      client.sendRaw("{\"data\":1,\"data\":2,\"cMsgId\":7}");
      assertError(client, null, "invalid_json");
      client.sendRaw("[".repeat(1000) + "]".repeat(1000));
      assertError(client, null, "invalid_json");
      client.socket().writeBinaryMessage(Buffer.buffer("{\"data\":1,\"cMsgId\":7}")).await();
      assertError(client, null, "binary_frame");
      assertEquals(1L, client.request("still works").getLong("sequence"));
    }
  }

  @Test
  void acksForUnknownDeliveriesGetAnErrorWithoutIds() {
    try (V1TestClient client = connect()) {
      client.sendRaw("{\"data\":1,\"cMsgId\":3,\"sMsgId\":999}");
      JsonObject error = client.nextReply();
      assertEquals("unknown_ack", error.getJsonObject("error").getString("code"));
      assertFalse(error.containsKey("cMsgId"), "the original client would resolve someone else's request");
      assertFalse(error.containsKey("sMsgId"), "the original client would echo it back");
      client.sendRaw("{\"data\":1,\"cMsgId\":3,\"sMsgId\":\"x\"}");
      assertEquals("invalid_frame", client.nextReply().getJsonObject("error").getString("code"));
    }
  }

  @Test
  void oversizedFrameClosesTheSocketWith1009() throws Exception {
    try (V1TestClient client = connect(); V1TestClient other = connect()) {
      String big = "{\"data\":\"" + "x".repeat(1024 * 1024 + 10) + "\",\"cMsgId\":1}";
      client.socket().writeTextMessage(big);
      assertEquals((short) 1009, client.closed.get(10, TimeUnit.SECONDS));
      assertEquals(1L, other.request("unaffected").getLong("sequence"));
    }
  }

  @Test
  void aClientThatDoesNotReadItsRepliesStopsBeingReadInsteadOfGrowingBrokerMemory() throws Exception {
    String subject = freshSubject();
    try (V1TestClient deaf = connect(subject); V1TestClient observer = connect(subject)) {
      deaf.socket().pause();
      String frame = "{\"data\":\"" + "x".repeat(1000) + "\",\"cMsgId\":1,\"clientId\":1}";
      int sent = 20_000;
      for (int i = 0; i < sent; i++) {
        deaf.socket().writeTextMessage(frame);
      }
      long storedWhileDeaf = waitForSequenceToSettle(observer);
      assertTrue(storedWhileDeaf < sent, "the broker kept reading a client that reads nothing: " + storedWhileDeaf);
      deaf.socket().resume();
      for (int i = 0; i < sent; i++) {
        assertEquals(1, new JsonObject(V1TestClient.take(deaf.replies, 30)).getInteger("cMsgId"));
      }
      assertEquals(sent, observer.command("getStreamInfo").getLong("sequence"), "nothing was lost on the way");
    }
  }

  @Test
  void permessageDeflateIsDeclinedByDefault() {
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setTryUsePerMessageCompression(true));
    try {
      WebSocket socket = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(broker.port())
          .setURI("/stream/" + freshSubject() + "?apiKey=" + TestBroker.API_KEY)).await();
      assertNull(socket.headers().get("Sec-WebSocket-Extensions"), "compression was negotiated");
      socket.close().await();
    } finally {
      client.close().await();
    }
  }

  /** Polls the last sequence until it stops moving for half a second. */
  private static long waitForSequenceToSettle(V1TestClient observer) throws InterruptedException {
    long previous = -1;
    long current = observer.command("getStreamInfo").getLong("sequence");
    while (current != previous) {
      Thread.sleep(500);
      previous = current;
      current = observer.command("getStreamInfo").getLong("sequence");
    }
    return current;
  }

  private static void assertError(V1TestClient client, String rawCMsgId, String code) {
    String frame = V1TestClient.take(client.replies, 10);
    JsonObject error = new JsonObject(frame);
    assertEquals(code, error.getJsonObject("error").getString("code"), frame);
    assertTrue(error.getJsonObject("error").getString("message").length() > 5, frame);
    if (rawCMsgId == null) {
      assertFalse(error.containsKey("cMsgId"), frame);
    } else {
      assertTrue(frame.contains("\"cMsgId\":" + rawCMsgId), frame);
    }
  }
}
