package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
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

/**
 * The packaged broker ({@code ../broker/target/broker.jar}) as a user starts it, in its own working directory with
 * only the {@code DSTREAM_*} settings given, and the packaged {@code dstream} run against it: for the tests that
 * need a real process (the quick start, cluster mode). Closing stops the broker (SIGTERM, then SIGKILL after 30 s).
 */
final class PackagedBroker implements AutoCloseable {

  private static final Path BROKER_JAR = Path.of("..", "broker", "target", "broker.jar").toAbsolutePath();
  private static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:\\d+)");
  private static final Pattern NATS_LISTENING = Pattern.compile("nats listening on (nats://127\\.0\\.0\\.1:\\d+)");
  private static final long START_SECONDS = 90;

  private final Process process;
  private final List<String> log = new CopyOnWriteArrayList<>();
  private final CompletableFuture<String> url = new CompletableFuture<>();
  private final CompletableFuture<String> natsUrl = new CompletableFuture<>();

  private PackagedBroker(Process process) {
    this.process = process;
  }

  /** Starts the broker in {@code workDir} with {@code settings} as its only {@code DSTREAM_*} variables. */
  static PackagedBroker start(Path workDir, Map<String, String> settings) throws IOException {
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-jar", BROKER_JAR.toString()).directory(workDir.toFile()).redirectErrorStream(true);
    builder.environment().keySet().removeIf(name -> name.startsWith("DSTREAM_"));
    builder.environment().putAll(settings);
    PackagedBroker broker = new PackagedBroker(builder.start());
    Thread reader = new Thread(broker::readLog, "broker-log");
    reader.setDaemon(true);
    reader.start();
    return broker;
  }

  /** The HTTP base URL it logged, once it listens. */
  String url() throws Exception {
    return url.get(START_SECONDS, TimeUnit.SECONDS);
  }

  /** The NATS URL it logged, once it listens. */
  String natsUrl() throws Exception {
    return natsUrl.get(START_SECONDS, TimeUnit.SECONDS);
  }

  /** What it logged so far. */
  List<String> log() {
    return List.copyOf(log);
  }

  /** Runs the packaged {@code dstream} in {@code workDir} with {@code env}; it must exit 0. @return its output */
  static String dstream(Path workDir, Map<String, String> env, String... args) throws Exception {
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

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }

  private void readLog() {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(),
        StandardCharsets.UTF_8))) {
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
