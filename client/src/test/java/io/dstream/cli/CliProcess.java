package io.dstream.cli;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code dstream} as a real process: {@code java -cp <test classpath> io.dstream.cli.Dstream ARGS},
 * with its own environment, optional stdin, and a time limit after which it is killed; to the end, or started in
 * the background while the test talks to it.
 */
final class CliProcess {

  /** What a finished run left behind. */
  record Result(int exitCode, String out, String err) {
    List<String> lines() {
      return out.isBlank() ? List.of() : List.of(out.strip().split("\\R"));
    }
  }

  private static final long LIMIT_SECONDS = 60;

  private CliProcess() {
  }

  /** A dstream process still running: {@link #finish()} waits for it and collects what it printed. */
  static final class Running {
    private final Process process;
    private final Path out;
    private final Path err;
    private final String[] args;

    private Running(Process process, Path out, Path err, String[] args) {
      this.process = process;
      this.out = out;
      this.err = err;
      this.args = args;
    }

    boolean isAlive() {
      return process.isAlive();
    }

    /** @return the result, once the process exited (killed after the time limit, which fails the test) */
    Result finish() throws IOException, InterruptedException {
      try {
        if (!process.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
          throw new AssertionError("dstream " + String.join(" ", args) + " did not finish within " + LIMIT_SECONDS
              + " s");
        }
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
      } finally {
        process.destroyForcibly();
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
      }
    }
  }

  static Result run(Map<String, String> env, String stdin, String... args) throws IOException, InterruptedException {
    return start(env, stdin, args).finish();
  }

  /** Starts dstream without waiting for it; {@code stdin} (or nothing) is written and closed at once. */
  static Running start(Map<String, String> env, String stdin, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    // A short-lived JVM: the quick JIT tier and the serial collector start fastest.
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-XX:+UseSerialGC");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(Dstream.class.getName());
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command);
    builder.environment().keySet().removeIf(name -> name.startsWith("DSTREAM_"));
    // Never the user's own contexts: an empty config dir unless the test gives one.
    builder.environment().put("DSTREAM_CONFIG_DIR", Files.createTempDirectory("dstream-config").toString());
    builder.environment().putAll(env);
    Path out = Files.createTempFile("dstream-out", ".txt");
    Path err = Files.createTempFile("dstream-err", ".txt");
    builder.redirectOutput(out.toFile()).redirectError(err.toFile());
    if (stdin == null) {
      builder.redirectInput(new File("/dev/null"));
    }
    Process process = builder.start();
    if (stdin != null) {
      try (var input = process.getOutputStream()) {
        input.write(stdin.getBytes(StandardCharsets.UTF_8));
      }
    }
    return new Running(process, out, err, args);
  }
}
