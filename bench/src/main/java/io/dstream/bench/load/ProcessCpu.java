package io.dstream.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * CPU time a server process has used (user + system), from Linux's {@code /proc/PID/stat}. CPU per
 * message is the number that stays comparable on a machine busy with other work, where rates and
 * latencies mostly measure the neighbours.
 */
final class ProcessCpu {

  /** USER_HZ, 100 on every Linux architecture the JDK runs on. */
  private static final int TICKS_PER_SECOND = 100;

  private ProcessCpu() {
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
