package io.dstream.broker.files;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.FileUploadLimits;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Uploads trickled a byte at a time used to hold every transfer thread: now they are bounded per
 * client and broker-wide (the excess gets 503 at once), cut below the minimum rate (408), and the
 * other file requests are served all along.
 */
@ExtendWith(VertxExtension.class)
class SlowUploadsTest {

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
         TrickledUpload first = new TrickledUpload(vertx, broker.port(), "slow-1", "10.0.0.1");
         TrickledUpload second = new TrickledUpload(vertx, broker.port(), "slow-2", "10.0.0.2")) {
      Thread.sleep(300);
      FileClient.Answer sameClient = put(files, "again", "10.0.0.1");
      assertEquals(503, sameClient.status());
      assertEquals("too_many_uploads", errorCode(sameClient));
      FileClient.Answer anotherClient = put(files, "third", "10.0.0.3");
      assertEquals(503, anotherClient.status(), "the broker-wide bound");
      assertEquals("1", sameClient.headers().get("Retry-After"));
      assertEquals(200, files.get("/r2/").status(), "listing is served while uploads trickle");

      assertTrue(first.status(10).startsWith("HTTP/1.1 408"), "cut below the minimum rate");
      assertTrue(second.status(10).startsWith("HTTP/1.1 408"));
      assertTrue(broker.broker().metrics().slowUploadsCut.count() >= 2);
      // A cut upload's slot is released once its transfer thread let go of it, which may follow the 408.
      FileClient.Answer afterwards = put(files, "normal", "10.0.0.1");
      for (long deadline = System.nanoTime() + 5_000_000_000L; afterwards.status() == 503 && System.nanoTime() < deadline; ) {
        Thread.sleep(50);
        afterwards = put(files, "normal", "10.0.0.1");
      }
      assertEquals(200, afterwards.status(), "the slots are free again");
      assertEquals("body", files.get("/r2/normal").body().toString());
    }
  }
}
