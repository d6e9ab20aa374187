package io.dstream.broker.hostile;

import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket peer over a plain TCP socket that can send what no well-behaved client library
 * would: invalid UTF-8 in text frames, fragments, reserved opcodes. It reads the server's frames
 * (text payloads and the close code) so tests can check the answers.
 */
final class RawWebSocket implements AutoCloseable {

  static final int TEXT = 0x1;
  static final int BINARY = 0x2;
  static final int CONTINUATION = 0x0;

  private final NetClient client;
  private final NetSocket socket;
  final BlockingQueue<String> texts = new LinkedBlockingQueue<>();
  final CompletableFuture<Integer> closeCode = new CompletableFuture<>();
  private Buffer pending = Buffer.buffer();
  private boolean upgraded;

  private RawWebSocket(NetClient client, NetSocket socket) {
    this.client = client;
    this.socket = socket;
  }

  static RawWebSocket connect(Vertx vertx, int port, String path) throws Exception {
    NetClient client = vertx.createNetClient();
    NetSocket socket = client.connect(port, "127.0.0.1").await();
    RawWebSocket raw = new RawWebSocket(client, socket);
    CompletableFuture<String> status = new CompletableFuture<>();
    socket.handler(data -> raw.onData(data, status));
    socket.closeHandler(v -> {
      raw.closeCode.complete(-1);
      status.complete("closed");
    });
    socket.write("GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").await();
    String line = status.get(10, TimeUnit.SECONDS);
    if (!line.startsWith("HTTP/1.1 101")) {
      raw.close();
      throw new IllegalStateException("upgrade refused: " + line);
    }
    return raw;
  }

  private void onData(Buffer data, CompletableFuture<String> status) {
    pending.appendBuffer(data);
    if (!upgraded) {
      String head = pending.toString(StandardCharsets.ISO_8859_1);
      int end = head.indexOf("\r\n\r\n");
      if (end < 0) {
        return;
      }
      upgraded = true;
      status.complete(head.substring(0, head.indexOf("\r\n")));
      pending = pending.getBuffer(end + 4, pending.length());
    }
    parseFrames();
  }

  private void parseFrames() {
    while (pending.length() >= 2) {
      int opcode = pending.getByte(0) & 0x0f;
      int length = pending.getByte(1) & 0x7f;
      int offset = 2;
      if (length == 126) {
        if (pending.length() < 4) {
          return;
        }
        length = pending.getUnsignedShort(2);
        offset = 4;
      } else if (length == 127) {
        if (pending.length() < 10) {
          return;
        }
        length = (int) pending.getLong(2);
        offset = 10;
      }
      if (pending.length() < offset + length) {
        return;
      }
      Buffer payload = pending.getBuffer(offset, offset + length);
      pending = pending.getBuffer(offset + length, pending.length());
      if (opcode == TEXT) {
        texts.add(payload.toString(StandardCharsets.UTF_8));
      } else if (opcode == 0x8) {
        closeCode.complete(payload.length() >= 2 ? payload.getUnsignedShort(0) : 1005);
      }
    }
  }

  /** Sends one frame, masked with a zero key (so the payload goes out as given). */
  void frame(int opcode, boolean fin, byte[] payload) {
    Buffer frame = Buffer.buffer().appendByte((byte) ((fin ? 0x80 : 0) | opcode));
    if (payload.length < 126) {
      frame.appendByte((byte) (0x80 | payload.length));
    } else if (payload.length < 65536) {
      frame.appendByte((byte) (0x80 | 126)).appendShort((short) payload.length);
    } else {
      frame.appendByte((byte) (0x80 | 127)).appendLong(payload.length);
    }
    socket.write(frame.appendInt(0).appendBytes(payload));
  }

  void text(String text) {
    frame(TEXT, true, text.getBytes(StandardCharsets.UTF_8));
  }

  String nextText() throws InterruptedException {
    String text = texts.poll(10, TimeUnit.SECONDS);
    if (text == null) {
      throw new AssertionError("no text frame within 10 s");
    }
    return text;
  }

  @Override
  public void close() {
    socket.close();
    client.close();
  }
}
