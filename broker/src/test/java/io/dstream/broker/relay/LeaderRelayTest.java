package io.dstream.broker.relay;

import io.dstream.broker.TestBroker;
import io.dstream.broker.auth.AnonymousAccess;
import io.dstream.broker.cluster.ClusterRouting;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.websocket.WebSocketFrameImpl;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The relay of cluster mode between two ordinary brokers: node A's routing sends the subjects
 * {@code remote-*} (and the Durable Streams paths {@code remote-*}) to broker B, which is a single
 * node and serves them itself. Everything A relays must be found on B through B; what A cannot relay
 * is a 503 worth retrying over HTTP and a close with 1013 on a WebSocket.
 */
class LeaderRelayTest {

  private static final Duration FORWARD_TIMEOUT = Duration.ofSeconds(1);
  private static final Pattern WAITERS = Pattern.compile("(?m)^dstream_long_poll_waiters (\\S+)$");
  private static final String WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  private static Vertx vertx;
  private static TestBroker leader;
  private static TestBroker mortal;
  private static TestBroker strict;
  private static TestBroker relaying;
  private static NetServer frozen;
  private static NetServer silent;
  private static int downPort;
  private static int mortalPort;
  private static volatile int floodedPort;
  private static WebClient web;
  private static HttpClient http;

  /** A's view of the cluster: who leads which subject. */
  private static final class TestRouting implements ClusterRouting {
    @Override
    public String nodeId() {
      return "node-a";
    }

    @Override
    public String remoteLeaderHttp(String subject) {
      String name = subject.startsWith("ds.") ? subject.substring(3) : subject;
      if (name.startsWith("remote-")) {
        return "http://127.0.0.1:" + leader.port();
      } else if (name.startsWith("strict-")) {
        return "http://127.0.0.1:" + strict.port();
      } else if (name.startsWith("mortal-")) {
        return "http://127.0.0.1:" + mortalPort;
      } else if (name.startsWith("flooded-")) {
        return "http://127.0.0.1:" + floodedPort;
      } else if (name.startsWith("down-")) {
        return "http://127.0.0.1:" + downPort;
      } else if (name.startsWith("frozen-")) {
        return "http://127.0.0.1:" + frozen.actualPort();
      } else if (name.startsWith("silent-")) {
        return "http://127.0.0.1:" + silent.actualPort();
      } else if (name.startsWith("leaderless-")) {
        throw StreamError.of(StreamError.Kind.UNAVAILABLE, "unavailable", "cluster: partition 3 has no leader");
      }
      return null;
    }
  }

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    // One push in flight per subscriber: a second push through A proves that A relayed the first one's ack.
    leader = TestBroker.start(vertx, b -> b.maxInFlight(1).anonymousAccess(AnonymousAccess.ALL));
    mortal = TestBroker.start(vertx);
    mortalPort = mortal.port();
    strict = TestBroker.start(vertx, b -> b.apiKey("another-key"));
    relaying = TestBroker.startRouted(vertx, new TestRouting(), FORWARD_TIMEOUT, b -> b);
    frozen = frozenLeader();
    silent = vertx.createNetServer().connectHandler(socket -> socket.handler(data -> { })).listen(0, "127.0.0.1").await();
    try (ServerSocket closed = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      downPort = closed.getLocalPort();
    }
    web = WebClient.create(vertx);
    http = vertx.createHttpClient();
  }

  @AfterAll
  static void stop() {
    web.close();
    http.close().await();
    frozen.close().await();
    silent.close().await();
    relaying.close();
    strict.close();
    mortal.close();
    leader.close();
    vertx.close().await();
  }

  private static HttpRequest<Buffer> request(HttpMethod method, TestBroker node, String uri) {
    return web.request(method, node.port(), "127.0.0.1", uri).putHeader("auth", TestBroker.API_KEY);
  }

  private static JsonArray records(TestBroker node, String subject) {
    HttpResponse<Buffer> read = request(HttpMethod.GET, node, "/stream/" + subject + "?offset=-&limit=1000").send().await();
    assertEquals(200, read.statusCode(), read.bodyAsString());
    return read.bodyAsJsonObject().getJsonArray("records");
  }

  private static JsonArray data(JsonArray records) {
    JsonArray data = new JsonArray();
    records.forEach(record -> data.add(((JsonObject) record).getValue("data")));
    return data;
  }

  @Test
  void recordsWrittenAndReadThroughANodeThatDoesNotLeadAreTheLeaders() {
    HttpResponse<Buffer> post = request(HttpMethod.POST, relaying, "/stream/remote-orders")
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add("book").add("pen"))).await();
    assertEquals(200, post.statusCode(), post.bodyAsString());
    assertEquals(new JsonArray().add("1").add("2"), post.bodyAsJsonObject().getJsonArray("offsets"));
    assertEquals(new JsonArray().add("book").add("pen"), data(records(leader, "remote-orders")), "stored on B");
    assertEquals(new JsonArray().add("book").add("pen"), data(records(relaying, "remote-orders")), "read through A");

    request(HttpMethod.POST, relaying, "/stream/local-orders")
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add("here"))).await();
    assertEquals(new JsonArray(), records(leader, "local-orders"), "a subject A leads stays on A");
    assertEquals(new JsonArray().add("here"), data(records(relaying, "local-orders")));

    assertEquals(204, request(HttpMethod.DELETE, relaying, "/stream/remote-orders").send().await().statusCode());
    assertEquals(new JsonArray(), records(leader, "remote-orders"), "destroyed on B");
  }

  @Test
  void aChunkedBodyStreamsToTheLeader() throws Exception {
    HttpClientRequest post = http.request(HttpMethod.POST, relaying.port(), "127.0.0.1", "/stream/remote-chunked")
        .await();
    post.putHeader("auth", TestBroker.API_KEY).putHeader("Content-Type", "application/json")
        .putHeader("Expect", "100-continue").setChunked(true);
    CompletableFuture<HttpClientResponse> answer = post.response().toCompletionStage().toCompletableFuture();
    StringBuilder expected = new StringBuilder();
    // The body follows A's 100 Continue, as it would a single node's.
    post.continueHandler(v -> {
      post.write("{\"records\":[");
      for (int i = 0; i < 200; i++) {
        post.write((i == 0 ? "" : ",") + "{\"n\":" + i + "}");
      }
      post.end("]}");
    });
    post.writeHead();
    for (int i = 0; i < 200; i++) {
      expected.append(i == 0 ? "" : ",").append("{\"n\":").append(i).append('}');
    }
    HttpClientResponse response = answer.get(10, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode(), response.body().await().toString());
    assertEquals(new JsonArray("[" + expected + "]"), data(records(leader, "remote-chunked")));
  }

  @Test
  void aClientIsAuthenticatedByTheNodeItReached() {
    // B lets anonymous clients write; A does not, and refuses before relaying anything.
    HttpResponse<Buffer> post = web.post(relaying.port(), "127.0.0.1", "/stream/remote-anonymous")
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add(1))).await();
    assertEquals(401, post.statusCode());
    assertEquals(new JsonArray(), records(leader, "remote-anonymous"));
  }

  @Test
  void durableStreamsCreateAppendAndReadThroughANodeThatDoesNotLead() {
    HttpResponse<Buffer> created = request(HttpMethod.PUT, relaying, "/v1/stream/remote-ds/a")
        .putHeader("Content-Type", "text/plain").send().await();
    assertEquals(201, created.statusCode(), created.bodyAsString());
    assertTrue(created.getHeader("Location").contains("127.0.0.1:" + relaying.port() + "/v1/stream/remote-ds/a"),
        "the leader's Location names the node the client reached: " + created.getHeader("Location"));
    assertEquals(1, created.headers().getAll("Access-Control-Allow-Origin").size(), "CORS headers once");
    assertEquals(204, request(HttpMethod.POST, relaying, "/v1/stream/remote-ds/a").putHeader("Content-Type", "text/plain")
        .sendBuffer(Buffer.buffer("hello ")).await().statusCode());

    HttpResponse<Buffer> onLeader = request(HttpMethod.GET, leader, "/v1/stream/remote-ds%2Fa?offset=-1").send().await();
    assertEquals("hello ", onLeader.bodyAsString(), "stored on B");
    HttpResponse<Buffer> head = request(HttpMethod.HEAD, relaying, "/v1/stream/remote-ds/a").send().await();
    assertEquals(200, head.statusCode());
    assertEquals(onLeader.getHeader("Stream-Next-Offset"), head.getHeader("Stream-Next-Offset"));
    HttpResponse<Buffer> read = request(HttpMethod.GET, relaying, "/v1/stream/remote-ds/a?offset=-1").send().await();
    assertEquals("hello ", read.bodyAsString());
    assertEquals("true", read.getHeader("Stream-Up-To-Date"));

    HttpResponse<Buffer> conflict = request(HttpMethod.PUT, relaying, "/v1/stream/remote-ds/a")
        .putHeader("Content-Type", "application/json").send().await();
    assertEquals(409, conflict.statusCode(), "B's refusal, as B answered it: " + conflict.bodyAsString());
  }

  @Test
  void aLongPollThroughANodeThatDoesNotLeadWaitsOnTheLeader() throws Exception {
    assertEquals(201, request(HttpMethod.PUT, leader, "/v1/stream/remote-poll").putHeader("Content-Type", "text/plain")
        .send().await().statusCode());
    String tail = request(HttpMethod.HEAD, leader, "/v1/stream/remote-poll").send().await().getHeader("Stream-Next-Offset");
    Future<HttpResponse<Buffer>> poll = request(HttpMethod.GET, relaying,
        "/v1/stream/remote-poll?live=long-poll&offset=" + tail).send();
    awaitWaiters(leader, 1);
    assertEquals(204, request(HttpMethod.POST, leader, "/v1/stream/remote-poll").putHeader("Content-Type", "text/plain")
        .sendBuffer(Buffer.buffer("woken")).await().statusCode());
    HttpResponse<Buffer> answered = poll.toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals(200, answered.statusCode());
    assertEquals("woken", answered.bodyAsString());
  }

  @Test
  void aLongPollMayWaitOnTheLeaderLongerThanTheForwardTimeout() {
    // Three times the forward timeout: a read parked on the leader is not a silent leader.
    HttpResponse<Buffer> read = request(HttpMethod.GET, relaying, "/stream/remote-quiet?offset=-&timeout_sec=3")
        .send().await();
    assertEquals(200, read.statusCode(), read.bodyAsString());
    assertEquals(new JsonArray(), read.bodyAsJsonObject().getJsonArray("records"));
  }

  @Test
  void serverSentEventsStreamThroughANodeThatDoesNotLead() throws Exception {
    assertEquals(201, request(HttpMethod.PUT, leader, "/v1/stream/remote-sse").putHeader("Content-Type", "text/plain")
        .sendBuffer(Buffer.buffer("first")).await().statusCode());
    HttpClientRequest get = http.request(HttpMethod.GET, relaying.port(), "127.0.0.1",
        "/v1/stream/remote-sse?live=sse&offset=-1").await();
    get.putHeader("auth", TestBroker.API_KEY);
    StringBuffer events = new StringBuffer();
    CompletableFuture<HttpClientResponse> head = new CompletableFuture<>();
    // The handler is set on the event loop, before the first event can be read.
    get.response().onSuccess(response -> {
      response.handler(chunk -> events.append(chunk.toString(StandardCharsets.UTF_8)));
      head.complete(response);
    });
    get.end();
    HttpClientResponse response = head.get(10, TimeUnit.SECONDS);
    assertEquals(200, response.statusCode());
    assertTrue(response.getHeader("Content-Type").startsWith("text/event-stream"));
    awaitText(events, "first");
    // The stream is still open: a later append reaches the client through A as it happens.
    assertEquals(204, request(HttpMethod.POST, leader, "/v1/stream/remote-sse").putHeader("Content-Type", "text/plain")
        .sendBuffer(Buffer.buffer("second")).await().statusCode());
    awaitText(events, "second");
    get.reset();
  }

  @Test
  void aV1SocketThroughANodeThatDoesNotLeadPublishesSubscribesAndAcksOnTheLeader() {
    try (V1TestClient onLeader = V1TestClient.connect(vertx, leader.port(), "remote-ws", TestBroker.API_KEY);
         V1TestClient client = V1TestClient.connect(vertx, relaying.port(), "remote-ws", TestBroker.API_KEY)) {
      onLeader.request("before");
      assertEquals(2L, client.request("through A").getLong("sequence"), "B's sequence");
      client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      JsonObject first = client.nextPush();
      assertEquals(1L, first.getLong("sequence"));
      client.ack(first);
      // B holds one push in flight: the second comes only once B had the first one's ack.
      JsonObject second = client.nextPush();
      assertEquals(2L, second.getLong("sequence"));
      assertEquals("through A", second.getString("data"));
      client.ack(second);
      onLeader.request("live");
      assertEquals("live", client.nextPush().getString("data"));
      assertEquals(3L, onLeader.command("getStreamInfo").getJsonObject("stream").getLong("messages"));
    }
  }

  @Test
  void fragmentsOfATextMessageCrossTheRelayAsTheyCame() throws Exception {
    WebSocketClient client = vertx.createWebSocketClient();
    try {
      WebSocket socket = client.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(relaying.port())
          .setURI("/stream/remote-fragments?apiKey=" + TestBroker.API_KEY)).await();
      CompletableFuture<String> reply = new CompletableFuture<>();
      socket.textMessageHandler(reply::complete);
      String text = "é€😀".repeat(200);
      byte[] message = new JsonObject().put("data", text).put("cMsgId", 1).put("clientId", 2).encode()
          .getBytes(StandardCharsets.UTF_8);
      // 100-byte fragments cut characters in two, the first one too (a text frame the public API cannot
      // make): only frames relayed as bytes keep the message whole.
      for (int start = 0; start < message.length; start += 100) {
        byte[] part = Arrays.copyOfRange(message, start, Math.min(message.length, start + 100));
        boolean last = start + 100 >= message.length;
        socket.writeFrame(start == 0 ? new WebSocketFrameImpl(WebSocketFrameType.TEXT, part, last)
            : WebSocketFrame.continuationFrame(Buffer.buffer(part), last)).await();
      }
      assertEquals(1L, new JsonObject(reply.get(10, TimeUnit.SECONDS)).getLong("sequence"));
      assertEquals(new JsonArray().add(text), data(records(leader, "remote-fragments")));
      socket.close().await();
    } finally {
      client.close().await();
    }
  }

  @Test
  void aRelayedRequestForASubjectTheNodeDoesNotLeadIsRefusedWith503() {
    HttpResponse<Buffer> refused = request(HttpMethod.POST, relaying, "/stream/remote-twice")
        .putHeader("DStream-Relayed-By", "node-c")
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add(1))).await();
    assertEquals(503, refused.statusCode());
    assertEquals("1", refused.getHeader("Retry-After"));
    JsonObject error = refused.bodyAsJsonObject().getJsonObject("error");
    assertEquals("unavailable", error.getString("code"));
    assertTrue(error.getString("message").contains("node-a does not lead 'remote-twice'"), error.getString("message"));
    assertEquals(new JsonArray(), records(leader, "remote-twice"), "never relayed again");

    ExecutionException upgrade = assertThrows(ExecutionException.class, () -> connect(relaying.port(), "remote-twice",
        Map.of("DStream-Relayed-By", "node-c")).get(10, TimeUnit.SECONDS));
    assertEquals(503, assertInstanceOf(UpgradeRejectedException.class, upgrade.getCause()).getStatus());

    HttpResponse<Buffer> led = request(HttpMethod.POST, relaying, "/stream/local-relayed")
        .putHeader("DStream-Relayed-By", "node-c")
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add(1))).await();
    assertEquals(200, led.statusCode(), "a relayed request for a subject the node leads is served");
  }

  @Test
  void aLeaderRefusalOfAnUpgradeReachesTheClientUnchanged() {
    // A accepts the test key; the strict leader has another one, so only it can refuse the credential.
    ExecutionException upgrade = assertThrows(ExecutionException.class,
        () -> connect(relaying.port(), "strict-ws", Map.of()).get(10, TimeUnit.SECONDS));
    UpgradeRejectedException rejected = assertInstanceOf(UpgradeRejectedException.class, upgrade.getCause());
    assertEquals(401, rejected.getStatus());
    assertEquals("unauthorized", new JsonObject(rejected.getBody()).getJsonObject("error").getString("code"));
    assertEquals(401, request(HttpMethod.GET, relaying, "/stream/strict-records").send().await().statusCode());
  }

  @Test
  void aLeaderThatIsDownOrUnknownIsA503OrAClose1013() throws Exception {
    for (String subject : new String[] {"down-records", "leaderless-records"}) {
      HttpResponse<Buffer> post = request(HttpMethod.POST, relaying, "/stream/" + subject)
          .sendJsonObject(new JsonObject().put("records", new JsonArray().add(1))).await();
      assertEquals(503, post.statusCode(), subject);
      assertEquals("1", post.getHeader("Retry-After"));
      assertEquals("unavailable", post.bodyAsJsonObject().getJsonObject("error").getString("code"));
      assertEquals(1013, closeCode(connect(relaying.port(), subject, Map.of())), subject);
    }
    HttpResponse<Buffer> read = request(HttpMethod.GET, relaying, "/v1/stream/down-ds?offset=-1").send().await();
    assertEquals(503, read.statusCode());
    assertEquals("*", read.getHeader("Access-Control-Allow-Origin"), "the view's headers on the relay's own answer");
    assertTrue(request(HttpMethod.GET, relaying, "/stream/leaderless-records").send().await().bodyAsJsonObject()
        .getJsonObject("error").getString("message").contains("partition 3 has no leader"));
  }

  @Test
  void aLeaderThatStopsAnsweringIsGivenUpAfterTheForwardTimeout() throws Exception {
    HttpResponse<Buffer> post = request(HttpMethod.POST, relaying, "/stream/frozen-records")
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add(1))).await();
    assertEquals(503, post.statusCode());
    assertEquals("1", post.getHeader("Retry-After"));
    // The handshake succeeds, then the leader answers no ping: the client is closed with 1013.
    assertEquals(1013, closeCode(connect(relaying.port(), "frozen-socket", Map.of())));
  }

  @Test
  void aLeaderThatNeverAnswersTheUpgradeIsGivenUpAfterTheForwardTimeout() throws Exception {
    // The leader's port takes the connection and reads the upgrade, then says nothing.
    assertEquals(1013, closeCode(connect(relaying.port(), "silent-socket", Map.of())));
  }

  @Test
  void aLeaderThatGoesAwayClosesItsRelayedSockets() throws Exception {
    V1TestClient client = V1TestClient.connect(vertx, relaying.port(), "mortal-ws", TestBroker.API_KEY);
    try {
      assertEquals(1L, client.request("one").getLong("sequence"));
      mortal.stop();
      assertNotNull(client.closed.get(20, TimeUnit.SECONDS), "the client's socket was closed");
    } finally {
      client.close();
    }
    assertEquals(1013, closeCode(connect(relaying.port(), "mortal-ws", Map.of())), "and a new one cannot reach B");
  }

  /**
   * A client of A that stops reading: A's socket to it fills, so A stops reading the leader's pushes,
   * and the leader sees a slow consumer and closes it, as it would the client itself. A relay that
   * read on regardless would hold every push in its own memory, and the leader would never notice.
   */
  @Test
  void aRelayedSubscriberThatStopsReadingHoldsBackTheLeader() throws Exception {
    ConnectionLimits defaults = ConnectionLimits.DEFAULT;
    try (TestBroker flooded = TestBroker.start(vertx, b -> b.maxInFlight(10_000).connectionLimits(new ConnectionLimits(
        100, 100_000, 100_000, Duration.ofMillis(500), 100, defaults.idleTimeout(), defaults.requestHeaderTimeout(),
        defaults.pingInterval())));
         V1TestClient producer = V1TestClient.connect(vertx, flooded.port(), "flooded-ws", TestBroker.API_KEY)) {
      floodedPort = flooded.port();
      NetClient tcp = vertx.createNetClient();
      try {
        NetSocket silent = tcp.connect(relaying.port(), "127.0.0.1").await();
        CompletableFuture<Void> upgraded = new CompletableFuture<>();
        silent.handler(data -> {
          if (!upgraded.isDone() && data.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 101")) {
            upgraded.complete(null);
            silent.pause();
          }
        });
        silent.write("GET /stream/flooded-ws?apiKey=" + TestBroker.API_KEY + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
            + "Sec-WebSocket-Version: 13\r\n\r\n").await();
        upgraded.get(10, TimeUnit.SECONDS);
        silent.write(maskedTextFrame("{\"data\":{\"cmd\":\"subscribe\",\"startSequence\":1},\"cMsgId\":1,\"clientId\":1}"))
            .await();
        String payload = "x".repeat(60_000);
        for (int i = 0; i < 400 && flooded.broker().metrics().slowConsumersClosed.count() < 1; i++) {
          producer.request(new JsonObject().put("blob", payload));
        }
        for (int i = 0; i < 100 && flooded.broker().metrics().slowConsumersClosed.count() < 1; i++) {
          Thread.sleep(100);
        }
        assertEquals(1.0, flooded.broker().metrics().slowConsumersClosed.count(), "the leader closed the slow subscriber");
      } finally {
        tcp.close().await();
      }
    }
  }

  // ---- helpers ---------------------------------------------------------------------------------

  /** A WebSocket to {@code port} for {@code subject}; its future fails with the refusal of an upgrade. */
  private static CompletableFuture<WebSocket> connect(int port, String subject, Map<String, String> headers) {
    WebSocketClient client = vertx.createWebSocketClient();
    WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port)
        .setURI("/stream/" + subject + (headers.containsKey("Authorization") ? "" : "?apiKey=" + TestBroker.API_KEY));
    headers.forEach(options::addHeader);
    CompletableFuture<WebSocket> connected = new CompletableFuture<>();
    client.connect(options).onComplete(done -> {
      if (done.failed()) {
        connected.completeExceptionally(done.cause());
        client.close();
        return;
      }
      WebSocket socket = done.result();
      // The close may come right after the upgrade: the handler is set on the loop that reads it.
      socket.closeHandler(v -> client.close());
      connected.complete(socket);
    });
    return connected;
  }

  /**
   * The code the socket is closed with. The upgrade and the close each get 20 s: the relay answers
   * within its 1 s forward timeout, and the margin is for a machine stalled by other work (a CI run
   * once saw 10 s pass without an answer and never again in many runs).
   */
  private static short closeCode(CompletableFuture<WebSocket> connecting) throws Exception {
    WebSocket socket = connecting.get(20, TimeUnit.SECONDS);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!socket.isClosed() && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(socket.isClosed(), "the socket was not closed");
    return socket.closeStatusCode();
  }

  private static void awaitWaiters(TestBroker node, int expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    double waiters = -1;
    while (System.nanoTime() < deadline) {
      String metrics = request(HttpMethod.GET, node, "/metrics").send().await().bodyAsString();
      Matcher matcher = WAITERS.matcher(metrics);
      waiters = matcher.find() ? Double.parseDouble(matcher.group(1)) : -1;
      if (waiters == expected) {
        return;
      }
      Thread.sleep(10);
    }
    throw new AssertionError("expected " + expected + " long-polls waiting on the leader, it counts " + waiters);
  }

  private static void awaitText(StringBuffer text, String expected) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (text.indexOf(expected) < 0 && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    assertTrue(text.indexOf(expected) >= 0, "never received '" + expected + "', only: " + text);
  }

  /** A client's text frame (masked, as a client must; a zero mask leaves the payload as it is). */
  private static Buffer maskedTextFrame(String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    Buffer frame = Buffer.buffer().appendByte((byte) 0x81);
    if (payload.length < 126) {
      frame.appendByte((byte) (0x80 | payload.length));
    } else {
      frame.appendByte((byte) (0x80 | 126)).appendShort((short) payload.length);
    }
    return frame.appendInt(0).appendBytes(payload);
  }

  /**
   * A leader that accepts connections and then says nothing: a WebSocket handshake is completed (so
   * only the relay's pings can find the silence), any other request is never answered.
   */
  private static NetServer frozenLeader() {
    return vertx.createNetServer().connectHandler(socket -> {
      Buffer head = Buffer.buffer();
      boolean[] answered = {false};
      socket.handler(data -> {
        if (answered[0]) {
          return;
        }
        head.appendBuffer(data);
        String text = head.toString(StandardCharsets.ISO_8859_1);
        if (!text.contains("\r\n\r\n")) {
          return;
        }
        answered[0] = true;
        Matcher key = Pattern.compile("(?im)^sec-websocket-key:\\s*(\\S+)").matcher(text);
        if (key.find()) {
          socket.write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: " + accept(key.group(1)) + "\r\n\r\n");
        }
      });
    }).listen(0, "127.0.0.1").await();
  }

  private static String accept(String key) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-1").digest((key + WS_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(digest);
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
