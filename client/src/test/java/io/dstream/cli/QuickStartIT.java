package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's quick start as a user runs it: the packaged broker jar started from an empty working
 * directory with no settings (its data in the default relative {@code ./data}, the embedded S3
 * server under {@code ./data/s3}), then the packaged {@code dstream} against it: files in and out,
 * a share link fetched without a credential, publish and subscribe, a checkpoint landing in the
 * embedded bucket, readiness {@code ok}. The settings are {@code DSTREAM_PORT=0} and
 * {@code DSTREAM_NATS_PORT=-1} (any free port), because 8787 and 4222 may be taken on a build machine; the broker
 * logs the ports it picked, and dstream gets the NATS one as {@code DSTREAM_NATS_URL}.
 */
@Tag("slow")
class QuickStartIT {

  private static final long CHECKPOINT_SECONDS = 60;

  @Test
  void theQuickStartWorksVerbatimFilesAndCheckpointsIncluded(@TempDir Path workDir) throws Exception {
    try (PackagedBroker broker = PackagedBroker.start(workDir, Map.of("DSTREAM_PORT", "0",
        "DSTREAM_NATS_PORT", "-1"))) {
      String base = broker.url();
      Path dataDir = workDir.resolve("data");
      String key = Files.readString(dataDir.resolve("api-key")).trim();
      Map<String, String> env = Map.of("DSTREAM_URL", base, "DSTREAM_API_KEY", key, "DSTREAM_NATS_URL",
          broker.natsUrl(), "DSTREAM_CONFIG_DIR", workDir.resolve("config").toString());

      Files.writeString(workDir.resolve("hello.txt"), "hello\n");
      run(workDir, env, "files", "put", "notes/hello.txt", "hello.txt");
      assertTrue(Files.exists(dataDir.resolve("s3/durable-stream/notes/hello.txt")), "the file is in the embedded bucket");
      run(workDir, env, "files", "get", "notes/hello.txt", "copy.txt");
      assertEquals("hello\n", Files.readString(workDir.resolve("copy.txt")));
      String link = run(workDir, env, "files", "share", "notes/hello.txt", "--expires", "1h").strip();
      HttpResponse<String> shared = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create(link)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, shared.statusCode(), link);
      assertEquals("hello\n", shared.body(), "the share link downloads the file without a credential");

      assertEquals("1", run(workDir, env, "pub", "orders.eu", "{\"item\":\"book\"}").strip());
      assertEquals("1\t{\"item\":\"book\"}", run(workDir, env, "sub", "orders.eu", "--count", "1").strip());
      Path manifest = dataDir.resolve("s3/durable-stream/_dstream/subjects/orders.eu/manifest.json");
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(CHECKPOINT_SECONDS);
      while (!Files.exists(manifest) && System.nanoTime() < deadline) {
        Thread.sleep(200);
      }
      assertTrue(Files.exists(manifest), "a checkpoint of orders.eu landed in the embedded bucket; log:\n"
          + String.join("\n", broker.log()));
      JsonObject ready = new JsonObject(run(workDir, env, "server", "info", "--json"));
      assertEquals("ok", ready.getString("status"), ready.encodePrettily());
      assertEquals("ok", run(workDir, env, "server", "check").strip());
      assertTrue(broker.log().stream().noneMatch(line -> line.contains("ERROR") || line.contains("Path traversal")),
          String.join("\n", broker.log()));
    }
  }

  private static String run(Path workDir, Map<String, String> env, String... args) throws Exception {
    return PackagedBroker.dstream(workDir, env, args);
  }
}
