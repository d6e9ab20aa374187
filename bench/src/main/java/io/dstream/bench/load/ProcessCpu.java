package io.dstream.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

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
    try {
      String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
      String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
      long ticks = Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
      return ticks * 1000 / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }
}
