package io.dstream.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.stream.Stream;

/**
 * CPU time a server has used (user + system), from Linux's {@code /proc/PID/stat}: the sum over its
 * processes, one for a single server, every node (and what they share) for a cluster. CPU per
 * message is the number that stays comparable on a machine busy with other work, where rates and
 * latencies mostly measure the neighbours.
 */
final class ProcessCpu {

  /** USER_HZ, 100 on every Linux architecture the JDK runs on. */
  private static final int TICKS_PER_SECOND = 100;

  private ProcessCpu() {
  }

  /** CPU milliseconds of a process and of its JIT compiler threads, at one moment (or between two). */
  record Sample(long processMs, long compilerMs) {

    /** What was used from {@code before} to this one, or null if either is unknown. */
    Sample since(Sample before) {
      return this == UNKNOWN || before == UNKNOWN ? null
          : new Sample(processMs - before.processMs, compilerMs - before.compilerMs);
    }
  }

  /**
   * Records {@code used} per message as "server CPU µs/msg" and "server CPU µs/msg without JIT
   * compiler", each name after {@code label}; nothing if {@code used} is unknown or no message ran.
   */
  static void perMessage(Sample used, long messages, String label, BiConsumer<String, Double> record) {
    if (used == null || messages <= 0) {
      return;
    }
    record.accept(label + "server CPU µs/msg", used.processMs() * 1000.0 / messages);
    record.accept(label + "server CPU µs/msg without JIT compiler",
        (used.processMs() - used.compilerMs()) * 1000.0 / messages);
  }

  private static final Sample UNKNOWN = new Sample(-1, -1);

  /**
   * The CPU of the processes {@code pids} now, summed, or an unknown sample (see {@link Sample#since})
   * without a process, or if one of them (or /proc) is not there.
   */
  static Sample sample(List<Long> pids) {
    long process = 0;
    long compiler = 0;
    for (long pid : pids) {
      long processMs = pid > 0 ? millis(pid) : -1;
      long compilerMs = pid > 0 ? compilerMillis(pid) : -1;
      if (processMs < 0 || compilerMs < 0) {
        return UNKNOWN;
      }
      process += processMs;
      compiler += compilerMs;
    }
    return pids.isEmpty() ? UNKNOWN : new Sample(process, compiler);
  }

  /** Milliseconds of CPU, or -1 if the process (or /proc) is not there. */
  static long millis(long pid) {
    return millis(Path.of("/proc", Long.toString(pid), "stat"));
  }

  /**
   * Milliseconds of CPU the process's JIT compiler threads (HotSpot's {@code C1/C2 CompilerThread})
   * have used: 0 for a process without them, -1 if /proc is not there.
   */
  static long compilerMillis(long pid) {
    try (Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
      return tasks.filter(ProcessCpu::isCompiler).mapToLong(task -> Math.max(0, millis(task.resolve("stat")))).sum();
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  private static boolean isCompiler(Path task) {
    try {
      return Files.readString(task.resolve("comm")).contains("CompilerThre");
    } catch (IOException e) {
      return false;
    }
  }

  private static long millis(Path stat) {
    try {
      String text = Files.readString(stat);
      String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      return ticks * 1000 / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
