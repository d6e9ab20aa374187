package io.dstream.bench.engines;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The measurement every engine runs: whichever node is elected proposes one entry at a time and
 * waits for it to be committed and applied, so the time is the engine's own (no client, no broker),
 * the floor under the broker's scenario 2. The other nodes only replicate.
 *
 * <p>With {@code -Dpids=FILE} (the three processes' ids, one per line, written by run.sh) the leader
 * also counts the context switches of every thread of the three processes over the timed entries:
 * on this 2-core VM a switch costs about 20 µs, and run 17 found the hand-offs to be where Ratis's
 * time goes.
 */
final class OneAtATime {

  private static final byte[] ENTRY = new byte[128];

  private OneAtATime() {
  }

  /**
   * Waits up to 30 s for this node to lead; a leader commits {@code warmUp} entries, then times
   * {@code count} more and prints their percentiles; a follower replicates for {@code followS}.
   */
  static void run(String node, int warmUp, int count, long followS, BooleanSupplier leads,
                  Function<byte[], CompletableFuture<?>> commit) throws Exception {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!leads.getAsBoolean() && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }
    if (!leads.getAsBoolean()) {
      Thread.sleep(TimeUnit.SECONDS.toMillis(followS));
      return;
    }
    for (int i = 0; i < warmUp; i++) {
      commit.apply(ENTRY).get(10, TimeUnit.SECONDS);
    }
    String pids = System.getProperty("pids");
    List<String> processes = pids == null ? List.of() : Files.readAllLines(Path.of(pids));
    long switchesBefore = switches(processes);
    long[] micros = new long[count];
    for (int i = 0; i < count; i++) {
      long started = System.nanoTime();
      commit.apply(ENTRY).get(10, TimeUnit.SECONDS);
      micros[i] = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - started);
    }
    long switched = switches(processes) - switchesBefore;
    Arrays.sort(micros);
    System.out.printf("%s led: %d entries one at a time, %s p50 %d us, p90 %d us, p99 %d us%n", node, count,
        processes.isEmpty() ? "" : "switches/entry " + switched / count + ",", micros[count / 2],
        micros[count * 9 / 10], micros[count * 99 / 100]);
  }

  /** Context switches so far of every thread of the processes (voluntary and not), from /proc. */
  private static long switches(List<String> processes) throws IOException {
    long total = 0;
    for (String pid : processes) {
      try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", pid.trim(), "task"))) {
        for (Path task : tasks) {
          try {
            for (String line : Files.readAllLines(task.resolve("status"))) {
              if (line.startsWith("voluntary_ctxt_switches:") || line.startsWith("nonvoluntary_ctxt_switches:")) {
                total += Long.parseLong(line.substring(line.indexOf(':') + 1).trim());
              }
            }
          } catch (IOException ended) {
            // A thread that ended while being read is left out: the count is a lower bound.
          }
        }
      }
    }
    return total;
  }
}
