package io.dstream.broker.files;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A chunked {@code PUT /r2/{key}} that sends one byte every 200 ms, from {@code client} (an
 * {@code X-Forwarded-For} the broker is told to trust), the way a slow or hostile uploader holds a
 * transfer thread. {@link #status} is the status line of the broker's answer.
 */
public final class TrickledUpload implements AutoCloseable {

  private final Vertx vertx;
  private final NetClient tcp;
  private final long timer;
  private final CompletableFuture<String> answer = new CompletableFuture<>();

  public TrickledUpload(Vertx vertx, int port, String apiKey, String key, String client) {
    this.vertx = vertx;
    tcp = vertx.createNetClient();
    NetSocket socket = tcp.connect(port, "127.0.0.1").await();
    Buffer received = Buffer.buffer();
    socket.handler(data -> {
      received.appendBuffer(data);
      String text = received.toString(StandardCharsets.UTF_8);
      if (text.contains("\r\n")) {
        answer.complete(text.substring(0, text.indexOf("\r\n")));
      }
    });
    socket.closeHandler(v -> answer.complete(""));
    socket.write("PUT /r2/" + key + " HTTP/1.1\r\nHost: 127.0.0.1\r\nauth: " + apiKey
        + "\r\nX-Forwarded-For: " + client + "\r\nTransfer-Encoding: chunked\r\n\r\n").await();
    timer = vertx.setPeriodic(200, id -> socket.write("1\r\nx\r\n"));
  }

  public TrickledUpload(Vertx vertx, int port, String key, String client) {
    this(vertx, port, TestBroker.API_KEY, key, client);
  }

  /** The status line of the answer, waiting up to {@code seconds}; empty if the connection ended without one. */
  public String status(int seconds) throws Exception {
    return answer.get(seconds, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    tcp.close().await();
  }
}
