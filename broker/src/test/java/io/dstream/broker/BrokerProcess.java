package io.dstream.broker;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Pattern;

/**
 * The broker as a child JVM (the test's classpath, {@link Main}), for kill -9 tests and the cluster
 * suite. Its output (stdout and stderr) is read on a thread of its own, so the child never blocks on
 * a full pipe; the last {@value #KEPT_LINES} lines are kept, and {@link #awaitLine} waits for any
 * line, kept or not. Thread-safe.
 */
public final class BrokerProcess implements AutoCloseable {

  /** Lines kept: a child logging in a loop must not fill the test JVM's heap. */
  private static final int KEPT_LINES = 100_000;
  private static final Pattern LISTENING = Pattern.compile("listening on http://[^:]+:(\\d+)");

  private final Process process;
  private final Deque<String> output = new ArrayDeque<>();
  private final List<LineWaiter> waiters = new ArrayList<>();
  private final Thread reader;
  private boolean ended;
  private volatile int port;

  private record LineWaiter(Pattern pattern, CompletableFuture<String> line) {
  }

  private BrokerProcess(Process process) {
    this.process = process;
    this.reader = new Thread(this::readOutput, "broker-output-" + process.pid());
    reader.setDaemon(true);
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
    return start(jvmOptions, environment, dataDir, apiKey, 0, extraArgs);
  }

  /**
   * The same on the given HTTP port (0 = a free one), so that a restarted broker answers where it
   * did before.
   */
  public static BrokerProcess start(List<String> jvmOptions, Map<String, String> environment, Path dataDir, String apiKey,
                                    int port, String... extraArgs) throws Exception {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName(),
        "--port", Integer.toString(port), "--data-dir", dataDir.toString(), "--api-key", apiKey));
    command.addAll(List.of(extraArgs));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
    builder.environment().putAll(environment);
    BrokerProcess broker = new BrokerProcess(builder.start());
    broker.reader.start();
    try {
      String listening = broker.awaitLine(LISTENING, Duration.ofSeconds(60));
      broker.port = LISTENING.matcher(listening).results().findFirst()
          .map(found -> Integer.parseInt(found.group(1))).orElseThrow();
      return broker;
    } catch (Exception e) {
      broker.process.destroyForcibly();
      throw e;
    }
  }

  private void readOutput() {
    try (BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = lines.readLine()) != null) {
        added(line);
      }
    } catch (IOException e) {
      added("[broker output unreadable: " + e + "]");
    }
    synchronized (this) {
      ended = true;
      for (LineWaiter waiter : waiters) {
        waiter.line().completeExceptionally(new IOException("the broker (pid " + process.pid()
            + ") ended before logging a line matching " + waiter.pattern() + "; its last lines:\n" + lastLines()));
      }
      waiters.clear();
    }
  }

  /** The last 40 lines it wrote, for a failure's message. */
  private synchronized String lastLines() {
    java.util.List<String> all = new java.util.ArrayList<>(output);
    return String.join("\n", all.subList(Math.max(0, all.size() - 40), all.size()));
  }

  private synchronized void added(String line) {
    output.addLast(line);
    if (output.size() > KEPT_LINES) {
      output.removeFirst();
    }
    waiters.removeIf(waiter -> waiter.pattern().matcher(line).find() && waiter.line().complete(line));
  }

  /**
   * The first line (logged so far or later) that {@code pattern} finds something in.
   * @throws TimeoutException when none came within {@code timeout}
   * @throws IOException when the process ended without one
   */
  public String awaitLine(Pattern pattern, Duration timeout) throws Exception {
    CompletableFuture<String> line = new CompletableFuture<>();
    synchronized (this) {
      for (String earlier : output) {
        if (pattern.matcher(earlier).find()) {
          return earlier;
        }
      }
      if (ended) {
        throw new IOException("the broker (pid " + process.pid() + ") ended before logging a line matching " + pattern
            + "; its last lines:\n" + lastLines());
      }
      waiters.add(new LineWaiter(pattern, line));
    }
    try {
      return line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    } catch (TimeoutException e) {
      throw new TimeoutException("no line matching " + pattern + " from the broker (pid " + process.pid()
          + ") within " + timeout);
    }
  }

  public int port() {
    return port;
  }

  /** The operating system's id of the broker's JVM (the child itself: it is started without a shell). */
  public long pid() {
    return process.pid();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  /** The lines the broker wrote so far (stdout and stderr; the last {@value #KEPT_LINES}). */
  public synchronized List<String> output() {
    return List.copyOf(output);
  }

  /** The last {@code count} lines of {@link #output()}. */
  public synchronized List<String> tail(int count) {
    List<String> all = List.copyOf(output);
    return all.subList(Math.max(0, all.size() - count), all.size());
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

  /** SIGTERM (the broker's shutdown hook runs), then SIGKILL if it has not ended within {@code seconds}. */
  public void terminate(long seconds) throws InterruptedException {
    if (process.isAlive()) {
      process.destroy();
      if (!process.waitFor(seconds, TimeUnit.SECONDS)) {
        kill();
      }
    }
  }

  @Override
  public void close() {
    try {
      terminate(30);
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
