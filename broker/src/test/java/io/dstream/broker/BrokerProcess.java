package io.dstream.broker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The broker as a child JVM (the test's classpath, {@link Main}), for kill -9 tests. */
public final class BrokerProcess implements AutoCloseable {

  private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

  private final Process process;
  private final int port;
  private final Queue<String> output;
  private final Thread reader;

  private BrokerProcess(Process process, int port, Queue<String> output, Thread reader) {
    this.process = process;
    this.port = port;
    this.output = output;
    this.reader = reader;
  }

  /** Starts the broker on a free port and waits for its {@code listening on} line. */
  public static BrokerProcess start(Path dataDir, String apiKey, String... extraArgs) throws Exception {
    return start(List.of("-Xmx512m"), dataDir, apiKey, extraArgs);
  }

  /** The same with the given JVM options (heap size, ...). */
  public static BrokerProcess start(List<String> jvmOptions, Path dataDir, String apiKey, String... extraArgs)
      throws Exception {
    return start(jvmOptions, Map.of(), dataDir, apiKey, extraArgs);
  }

  /** The same with extra environment variables (the {@code DSTREAM_*} settings). */
  public static BrokerProcess start(List<String> jvmOptions, Map<String, String> environment, Path dataDir, String apiKey,
                                    String... extraArgs) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--port", "0", "--data-dir", dataDir.toString(), "--api-key", apiKey));
    command.addAll(List.of(extraArgs));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(environment);
    Process process = builder.start();
    CompletableFuture<Integer> port = new CompletableFuture<>();
    Queue<String> output = new ConcurrentLinkedQueue<>();
    Thread reader = new Thread(() -> {
      try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null) {
          output.add(line);
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            port.complete(Integer.parseInt(m.group(1)));
          }
        }
        port.completeExceptionally(new IOException("broker exited before listening"));
      } catch (IOException e) {
        port.completeExceptionally(e);
      }
    }, "broker-output");
    reader.setDaemon(true);
    reader.start();
    try {
      return new BrokerProcess(process, port.get(60, TimeUnit.SECONDS), output, reader);
    } catch (Exception e) {
      process.destroyForcibly();
      throw e;
    }
  }

  public int port() {
    return port;
  }

  /** The lines the broker wrote so far (stdout and stderr). */
  public List<String> output() {
    return List.copyOf(output);
  }

  /**
   * The exit status once the process ended within {@code seconds}, else null. Once it ended,
   * {@link #output()} holds every line it wrote (the pipe is read to its end first).
   */
  public Integer awaitExit(long seconds) throws InterruptedException {
    if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
      return null;
    }
    reader.join(TimeUnit.SECONDS.toMillis(10));
    return process.exitValue();
  }

  /** SIGKILL: no shutdown hook, no final commit. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  @Override
  public void close() {
    try {
      if (process.isAlive()) {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
          kill();
        }
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
