package io.dstream.broker.limits;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A protocol v1 client that sends requests and never reads what it is sent, the way an attacker
 * stops reading: a plain blocking socket with a 4 KiB receive buffer, upgraded by hand, from which
 * nothing is read after the upgrade (a client library would still buffer in user space). A socket
 * that is not read does not see the broker's FIN either; {@link #drain} reads again, to learn
 * whether the broker ended the connection.
 */
final class SilentWebSocket implements AutoCloseable {

  private static final AtomicLong IDS = new AtomicLong();

  private final Socket socket;
  private final OutputStream out;
  final CompletableFuture<Void> closed = new CompletableFuture<>();
  private long nextCMsgId = 1;

  private SilentWebSocket(Socket socket) throws IOException {
    this.socket = socket;
    this.out = socket.getOutputStream();
  }

  static SilentWebSocket connect(int port, String subject, String apiKey) throws IOException {
    Socket socket = new Socket();
    socket.setReceiveBufferSize(4096);
    socket.connect(new InetSocketAddress("127.0.0.1", port), 10_000);
    socket.setSoTimeout(10_000);
    SilentWebSocket silent = new SilentWebSocket(socket);
    silent.out.write(("GET /stream/" + subject + "?apiKey=" + apiKey + " HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
    String head = readHead(socket.getInputStream());
    if (!head.startsWith("HTTP/1.1 101")) {
      socket.close();
      throw new IOException("upgrade refused: " + head);
    }
    return silent;
  }

  /** Reads the response head byte by byte, so that not one byte of a frame is taken. */
  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) {
        throw new IOException("closed during the upgrade");
      }
      head.write(b);
    }
    return head.toString(StandardCharsets.ISO_8859_1);
  }

  /** Sends {@code {"data":data,"cMsgId":n,"clientId":..}} ({@code data} as JSON text). */
  void request(String data) throws IOException {
    String frame = "{\"data\":" + data + ",\"cMsgId\":" + nextCMsgId++ + ",\"clientId\":" + IDS.incrementAndGet() + "}";
    out.write(maskedTextFrame(frame));
  }

  /** Reads again, discarding everything, so that the end of the connection shows as {@link #closed}. */
  void drain() {
    Thread reader = new Thread(() -> {
      byte[] sink = new byte[64 * 1024];
      try (InputStream in = socket.getInputStream()) {
        socket.setSoTimeout(0);
        while (in.read(sink) >= 0) {
          // discarded
        }
      } catch (IOException e) {
        // a reset ends the connection as well as a FIN
      }
      closed.complete(null);
    }, "silent-websocket-drain");
    reader.setDaemon(true);
    reader.start();
  }

  boolean closedWithin(long millis) throws InterruptedException {
    try {
      closed.get(millis, TimeUnit.MILLISECONDS);
      return true;
    } catch (ExecutionException | TimeoutException e) {
      return false;
    }
  }

  /** A client-to-server text frame, masked with a zero key (so the payload goes out as it is). */
  static byte[] maskedTextFrame(String text) {
    byte[] payload = text.getBytes(StandardCharsets.UTF_8);
    ByteBuffer frame = ByteBuffer.allocate(payload.length + 14);
    frame.put((byte) 0x81);
    if (payload.length < 126) {
      frame.put((byte) (0x80 | payload.length));
    } else if (payload.length < 65_536) {
      frame.put((byte) (0x80 | 126)).putShort((short) payload.length);
    } else {
      frame.put((byte) (0x80 | 127)).putLong(payload.length);
    }
    frame.putInt(0).put(payload);
    return java.util.Arrays.copyOf(frame.array(), frame.position());
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // already gone
    }
  }
}
