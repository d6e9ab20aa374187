package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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

  private static final Path BROKER_JAR = Path.of("..", "broker", "target", "broker.jar").toAbsolutePath();
  private static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");
  private static final Pattern NATS_LISTENING = Pattern.compile("nats listening on (nats://127\\.0\\.0\\.1:\\d+)");
  private static final long START_SECONDS = 90;
  private static final long CHECKPOINT_SECONDS = 60;

  @Test
  void theQuickStartWorksVerbatimFilesAndCheckpointsIncluded(@TempDir Path workDir) throws Exception {
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", BROKER_JAR.toString()).directory(workDir.toFile()).redirectErrorStream(true);
    builder.environment().keySet().removeIf(name -> name.startsWith("DSTREAM_"));
    builder.environment().put("DSTREAM_PORT", "0");
    builder.environment().put("DSTREAM_NATS_PORT", "-1");
    Process broker = builder.start();
    List<String> log = new CopyOnWriteArrayList<>();
    CompletableFuture<String> url = new CompletableFuture<>();
    CompletableFuture<String> natsUrl = new CompletableFuture<>();
    Thread reader = new Thread(() -> readLog(broker, log, url, natsUrl), "broker-log");
    reader.setDaemon(true);
    reader.start();
    try {
      String base = url.get(START_SECONDS, TimeUnit.SECONDS);
      Path dataDir = workDir.resolve("data");
      String key = Files.readString(dataDir.resolve("api-key")).trim();
      Map<String, String> env = Map.of("DSTREAM_URL", base, "DSTREAM_API_KEY", key, "DSTREAM_NATS_URL",
          natsUrl.get(START_SECONDS, TimeUnit.SECONDS), "DSTREAM_CONFIG_DIR", workDir.resolve("config").toString());

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
          + String.join("\n", log));
      JsonObject ready = new JsonObject(run(workDir, env, "server", "info", "--json"));
      assertEquals("ok", ready.getString("status"), ready.encodePrettily());
      assertEquals("ok", run(workDir, env, "server", "check").strip());
      assertTrue(log.stream().noneMatch(line -> line.contains("ERROR") || line.contains("Path traversal")),
          String.join("\n", log));
    } finally {
      broker.destroy();
      if (!broker.waitFor(30, TimeUnit.SECONDS)) {
        broker.destroyForcibly();
      }
    }
  }

  private static String run(Path workDir, Map<String, String> env, String... args) throws Exception {
    List<String> command = new ArrayList<>(List.of(DocsExamplesIT.LAUNCHER.toString()));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("DSTREAM_"));
    builder.environment().putAll(env);
    builder.environment().put("DSTREAM_JAR", DocsExamplesIT.JAR.toString());
    Path out = Files.createTempFile(workDir, "out", ".txt");
    Path err = Files.createTempFile(workDir, "err", ".txt");
    Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    if (!process.waitFor(60, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("dstream " + String.join(" ", args) + " did not finish");
    }
    assertEquals(0, process.exitValue(), "dstream " + String.join(" ", args) + ": " + Files.readString(err));
    return Files.readString(out);
  }

  private static void readLog(Process broker, List<String> log, CompletableFuture<String> url,
      CompletableFuture<String> natsUrl) {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(broker.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        log.add(line);
        Matcher nats = NATS_LISTENING.matcher(line);
        if (nats.find()) {
          natsUrl.complete(nats.group(1));
          continue;
        }
        Matcher listening = LISTENING.matcher(line);
        if (listening.find()) {
          url.complete(listening.group(1));
        }
      }
      AssertionError exited = new AssertionError("the broker exited before listening:\n" + String.join("\n", log));
      url.completeExceptionally(exited);
      natsUrl.completeExceptionally(exited);
    } catch (IOException e) {
      url.completeExceptionally(e);
    }
  }
}
