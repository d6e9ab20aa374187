package io.dstream.broker.files;

import io.dstream.broker.BrokerProcess;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * A 1 GiB file through a broker JVM with a 256 MiB heap: the upload (chunked, length unknown) and
 * the download both stream, so neither can hold the file in memory.
 */
@Tag("slow")
@ExtendWith(VertxExtension.class)
class LargeFileTest {

  private static final long SIZE = 1024L * 1024 * 1024;
  private static final int CHUNK = 256 * 1024;
  private static final String KEY = "big/one-gib.bin";

  @Test
  void oneGibUploadAndDownloadStreamThroughA256MibHeap(Vertx vertx) throws Exception {
    Path dataDir = Files.createTempDirectory("dstream-large");
    try (BrokerProcess broker = BrokerProcess.start(List.of("-Xmx256m"), dataDir, "large-key")) {
      HttpClient http = vertx.createHttpClient();
      RequestOptions put = options(broker, HttpMethod.POST);
      HttpClientRequest request = FileClient.await(http.request(put), 30);
      request.setChunked(true);
      Future<Integer> putStatus = request.response().map(response -> response.statusCode());
      String uploaded = upload(request);
      request.end();
      assertEquals(200, FileClient.await(putStatus, 300));

      Promise<String> downloaded = Promise.promise();
      long[] received = new long[1];
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      FileClient.await(http.request(options(broker, HttpMethod.GET)), 30).send().onSuccess(response -> {
        response.handler(chunk -> {
          received[0] += chunk.length();
          digest.update(chunk.getBytes());
        });
        response.endHandler(v -> downloaded.complete(HexFormat.of().formatHex(digest.digest())));
        response.exceptionHandler(downloaded::fail);
      }).onFailure(downloaded::fail);
      assertEquals(uploaded, FileClient.await(downloaded.future(), 600));
      assertEquals(SIZE, received[0]);
      http.close().await();
    } finally {
      deleteRecursively(dataDir);
    }
  }

  /** The gigabyte must not stay behind in the temp dir. */
  private static void deleteRecursively(Path dir) throws Exception {
    try (Stream<Path> paths = Files.walk(dir)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  private static RequestOptions options(BrokerProcess broker, HttpMethod method) {
    return new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(broker.port()).setURI("/r2/" + KEY)
        .putHeader("Authorization", "Bearer large-key");
  }

  /** Writes SIZE pseudo-random bytes, each chunk after the previous one was accepted; returns their SHA-256. */
  private static String upload(HttpClientRequest request) throws Exception {
    MessageDigest digest = MessageDigest.getInstance("SHA-256");
    Random random = new Random(42);
    byte[] bytes = new byte[CHUNK];
    for (long sent = 0; sent < SIZE; sent += CHUNK) {
      random.nextBytes(bytes);
      digest.update(bytes);
      FileClient.await(request.write(Buffer.buffer(bytes.clone())), 120);
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
