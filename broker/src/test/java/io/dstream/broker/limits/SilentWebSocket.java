package io.dstream.broker.limits;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A protocol v1 client that sends requests and never reads what it is sent: a plain TCP socket with
 * a small receive buffer, upgraded by hand and then paused, the way an attacker stops reading. A
 * paused socket does not see the broker's FIN either; {@link #drain} reads again, to learn whether
 * the broker closed it.
 */
final class SilentWebSocket implements AutoCloseable {

  private static final AtomicLong IDS = new AtomicLong();

  private final NetClient client;
  private final NetSocket socket;
  final CompletableFuture<Void> closed = new CompletableFuture<>();
  private long nextCMsgId = 1;

  private SilentWebSocket(NetClient client, NetSocket socket) {
    this.client = client;
    this.socket = socket;
  }

  static SilentWebSocket connect(Vertx vertx, int port, String subject, String apiKey) throws Exception {
    NetClient client = vertx.createNetClient(new NetClientOptions().setReceiveBufferSize(4096));
    NetSocket socket = client.connect(port, "127.0.0.1").await();
    SilentWebSocket silent = new SilentWebSocket(client, socket);
    CompletableFuture<Void> upgraded = new CompletableFuture<>();
    socket.closeHandler(v -> {
      silent.closed.complete(null);
      upgraded.completeExceptionally(new IllegalStateException("closed before the upgrade"));
    });
    socket.handler(data -> {
      if (!upgraded.isDone() && data.toString(StandardCharsets.ISO_8859_1).startsWith("HTTP/1.1 101")) {
        socket.pause();
        upgraded.complete(null);
      }
    });
    socket.write("GET /stream/" + subject + "?apiKey=" + apiKey + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\n\r\n").await();
    upgraded.get(10, TimeUnit.SECONDS);
    return silent;
  }

  /** Sends {@code {"data":data,"cMsgId":n,"clientId":..}} ({@code data} as JSON text). */
  void request(String data) {
    String frame = "{\"data\":" + data + ",\"cMsgId\":" + nextCMsgId++ + ",\"clientId\":" + IDS.incrementAndGet() + "}";
    socket.write(maskedTextFrame(frame));
  }

  /** Reads again, discarding everything, so that a close by the broker shows as {@link #closed}. */
  void drain() {
    socket.handler(data -> { });
    socket.resume();
  }

  boolean closedWithin(long millis) throws InterruptedException {
    try {
      closed.get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
      return false;
    }
  }

  static Buffer maskedTextFrame(String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    Buffer frame = Buffer.buffer().appendByte((byte) 0x81);
    if (payload.length < 126) {
      frame.appendByte((byte) (0x80 | payload.length));
    } else if (payload.length < 65_536) {
      frame.appendByte((byte) (0x80 | 126)).appendShort((short) payload.length);
    } else {
      frame.appendByte((byte) (0x80 | 127)).appendLong(payload.length);
    }
    // A zero mask: the payload goes out as it is.
    return frame.appendInt(0).appendBytes(payload);
  }

  @Override
  public void close() {
    socket.close();
    client.close();
  }
}
