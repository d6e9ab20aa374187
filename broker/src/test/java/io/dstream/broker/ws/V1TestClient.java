package io.dstream.broker.ws;

import io.vertx.core.Vertx;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A raw protocol v1 peer for tests: it sends frames exactly as given and sorts what arrives into
 * pushes (frames with {@code pub}) and everything else, keeping the raw text for byte-level checks.
 */
public final class V1TestClient implements AutoCloseable {

  private static final AtomicLong CLIENT_IDS = new AtomicLong(1);

  private final WebSocketClient client;
  private final WebSocket socket;
  public final BlockingQueue<String> replies = new LinkedBlockingQueue<>();
  public final BlockingQueue<String> pushes = new LinkedBlockingQueue<>();
  public final CompletableFuture<Short> closed = new CompletableFuture<>();
  private final double clientId = CLIENT_IDS.getAndIncrement() + 0.5;
  private double nextCMsgId = Math.random();

  private V1TestClient(WebSocketClient client, WebSocket socket) {
    this.client = client;
    this.socket = socket;
    socket.textMessageHandler(text -> (text.contains("\"pub\":1") ? pushes : replies).add(text));
    socket.closeHandler(v -> closed.complete(socket.closeStatusCode()));
  }

  public static V1TestClient connect(Vertx vertx, int port, String subject, String apiKey) {
    return connect(vertx, port, subject, apiKey, Map.of());
  }

  public static V1TestClient connect(Vertx vertx, int port, String subject, String apiKey, Map<String, String> headers) {
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions().setMaxFrameSize(4 * 1024 * 1024)
        .setMaxMessageSize(16 * 1024 * 1024));
    String uri = "/stream/" + URLEncoder.encode(subject, StandardCharsets.UTF_8).replace("+", "%20")
        + (apiKey == null ? "" : "?apiKey=" + apiKey);
    try {
      WebSocketConnectOptions options = new WebSocketConnectOptions().setHost("127.0.0.1").setPort(port).setURI(uri);
      headers.forEach(options::addHeader);
      WebSocket socket = client.connect(options).await();
      return new V1TestClient(client, socket);
    } catch (RuntimeException e) {
      client.close();
      throw e;
    }
  }

  public void sendRaw(String frame) {
    socket.writeTextMessage(frame).await();
  }

  public WebSocket socket() {
    return socket;
  }

  /** Sends {@code {"data":data,"cMsgId":..,"clientId":..}} and returns the cMsgId used. */
  public double send(Object data) {
    nextCMsgId += 1;
    double cMsgId = nextCMsgId;
    sendRaw(new JsonObject().put("data", data).put("cMsgId", cMsgId).put("clientId", clientId).encode());
    return cMsgId;
  }

  /** Sends a request and waits for the reply carrying its cMsgId. */
  public JsonObject request(Object data) {
    double cMsgId = send(data);
    JsonObject reply = nextReply();
    if (reply.getDouble("cMsgId") == null || reply.getDouble("cMsgId") != cMsgId) {
      fail("expected the reply to cMsgId " + cMsgId + " but got " + reply);
    }
    return reply;
  }

  public JsonObject command(String cmd) {
    return request(new JsonObject().put("cmd", cmd));
  }

  public JsonObject nextReply() {
    return new JsonObject(take(replies, 10));
  }

  public JsonObject nextPush() {
    return new JsonObject(take(pushes, 10));
  }

  /** Acks a push by echoing it without {@code pub}, as the original JavaScript client does. */
  public void ack(JsonObject push) {
    JsonObject ack = push.copy();
    ack.remove("pub");
    sendRaw(ack.encode());
  }

  public static String take(BlockingQueue<String> queue, int seconds) {
    try {
      String frame = queue.poll(seconds, TimeUnit.SECONDS);
      assertNotNull(frame, "no frame within " + seconds + " s");
      return frame;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    if (!socket.isClosed()) {
      socket.close().await();
    }
    client.close().await();
  }
}
