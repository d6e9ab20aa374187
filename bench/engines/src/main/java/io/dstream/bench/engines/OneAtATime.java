package io.dstream.bench.engines;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Function;

/**
 * The measurement both engines run: whichever node is elected proposes one entry at a time and
 * waits for it to be committed and applied, so the time is the engine's own (no client, no broker),
 * the floor under the broker's scenario 2. The other nodes only replicate.
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
    long[] micros = new long[count];
    for (int i = 0; i < warmUp + count; i++) {
      long started = System.nanoTime();
      commit.apply(ENTRY).get(10, TimeUnit.SECONDS);
      if (i >= warmUp) {
        micros[i - warmUp] = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - started);
      }
    }
    Arrays.sort(micros);
    System.out.printf("%s led: %d entries one at a time, p50 %d us, p90 %d us, p99 %d us%n", node, count,
        micros[count / 2], micros[count * 9 / 10], micros[count * 99 / 100]);
  }
}
