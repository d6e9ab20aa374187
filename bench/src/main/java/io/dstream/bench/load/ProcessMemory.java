package io.dstream.bench.load;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Memory of a broker child process read from outside it: the Java heap in use after a forced full
 * GC (via {@code jcmd}, so only live objects count) and the resident set size from Linux's
 * {@code /proc/PID/status} (heap pages touched, direct buffers, metaspace, code, thread stacks).
 */
final class ProcessMemory {

  private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
  private static final Pattern RSS = Pattern.compile("(?m)^VmRSS:\\s+(\\d+) kB");

  private ProcessMemory() {
  }

  /** KiB of heap in use right after a full GC, or -1 without a pid or when jcmd answers nothing readable. */
  static long heapUsedAfterGcKiB(long pid) throws IOException, InterruptedException {
    if (pid <= 0) {
      return -1;
    }
    jcmd(pid, "GC.run");
    Matcher matcher = HEAP_USED.matcher(jcmd(pid, "GC.heap_info"));
    return matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
  }

  /** KiB resident, or -1 without a pid or when the process (or /proc) is not there. */
  static long residentKiB(long pid) {
    if (pid <= 0) {
      return -1;
    }
    try {
      Matcher matcher = RSS.matcher(Files.readString(Path.of("/proc", Long.toString(pid), "status")));
      return matcher.find() ? Long.parseLong(matcher.group(1)) : -1;
    } catch (IOException e) {
      return -1;
    }
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    process.waitFor(60, TimeUnit.SECONDS);
    return new String(output, StandardCharsets.UTF_8);
  }
}
