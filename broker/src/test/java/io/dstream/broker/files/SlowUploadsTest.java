package io.dstream.broker.files;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.FileUploadLimits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Uploads trickled a byte at a time used to hold every transfer thread: now they are bounded per
 * client and broker-wide (the excess gets 503 at once), cut below the minimum rate (408), and the
 * other file requests are served all along.
 */
@ExtendWith(VertxExtension.class)
class SlowUploadsTest {

  /** A chunked upload from {@code client} (an X-Forwarded-For the broker trusts) sending one byte every 200 ms. */
  private static final class Trickle implements AutoCloseable {
    private final NetClient tcp;
    private final long timer;
    private final Vertx vertx;
    final CompletableFuture<String> answer = new CompletableFuture<>();

    Trickle(Vertx vertx, int port, String key, String client) {
      this.vertx = vertx;
      tcp = vertx.createNetClient();
      NetSocket socket = tcp.connect(port, "127.0.0.1").await();
      Buffer received = Buffer.buffer();
      socket.handler(received::appendBuffer);
      socket.closeHandler(v -> answer.complete(received.toString(StandardCharsets.UTF_8)));
      socket.write("PUT /r2/" + key + " HTTP/1.1\r\nHost: 127.0.0.1\r\nauth: " + TestBroker.API_KEY
          + "\r\nX-Forwarded-For: " + client + "\r\nTransfer-Encoding: chunked\r\n\r\n").await();
      timer = vertx.setPeriodic(200, id -> socket.write("1\r\nx\r\n"));
    }

    String status() throws Exception {
      String response = answer.get(10, TimeUnit.SECONDS);
      return response.isEmpty() ? "" : response.substring(0, response.indexOf("\r\n"));
    }

    @Override
    public void close() {
      vertx.cancelTimer(timer);
      tcp.close().await();
    }
  }

  private static FileClient.Answer put(FileClient files, String key, String client) {
    return files.call(HttpMethod.PUT, "/r2/" + key, Map.of("X-Forwarded-For", client), Buffer.buffer("body"));
  }

  private static String errorCode(FileClient.Answer answer) {
    return answer.json().getJsonObject("error").getString("code");
  }

  @Test
  void trickledUploadsAreBoundedAndCutWhileOtherFileRequestsAreServed(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.trustedProxies(List.of("127.0.0.1"))
        .uploadLimits(new FileUploadLimits(2, 1, 1024, Duration.ofMillis(3_000))));
         FileClient files = new FileClient(vertx, broker.port(), TestBroker.API_KEY);
         Trickle first = new Trickle(vertx, broker.port(), "slow-1", "10.0.0.1");
         Trickle second = new Trickle(vertx, broker.port(), "slow-2", "10.0.0.2")) {
      Thread.sleep(300);
      FileClient.Answer sameClient = put(files, "again", "10.0.0.1");
      assertEquals(503, sameClient.status());
      assertEquals("too_many_uploads", errorCode(sameClient));
      FileClient.Answer anotherClient = put(files, "third", "10.0.0.3");
      assertEquals(503, anotherClient.status(), "the broker-wide bound");
      assertEquals("1", sameClient.headers().get("Retry-After"));
      assertEquals(200, files.get("/r2/").status(), "listing is served while uploads trickle");

      assertTrue(first.status().startsWith("HTTP/1.1 408"), "cut below the minimum rate");
      assertTrue(second.status().startsWith("HTTP/1.1 408"));
      assertTrue(broker.broker().metrics().slowUploadsCut.count() >= 2);
      FileClient.Answer afterwards = put(files, "normal", "10.0.0.1");
      assertEquals(200, afterwards.status(), "the slots are free again");
      assertEquals("body", files.get("/r2/normal").body().toString());
    }
  }
}
