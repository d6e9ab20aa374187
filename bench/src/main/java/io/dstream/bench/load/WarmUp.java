package io.dstream.bench.load;

import java.io.PrintStream;
import java.util.List;

/**
 * Unrecorded runs before the measured ones, as JMH's warm-up iterations: a JVM server is still
 * compiling the paths a scenario exercises for the first time, and that compilation is a start-up
 * cost, not a cost per message. One warm-up run was not enough: in scenario 1 the C2 compiler
 * thread was still busy through the second measured repeat (22 s of compiler CPU, the CPU per
 * message falling from 51 to 26 us over four repeats). So a server whose threads show a JIT compiler
 * warms up again while its compiler used more than {@link #SETTLED_COMPILER_SHARE} of its CPU, within
 * a time bound ({@code bench/run.sh --warm-up-s}, 60 s); the log says how many runs it took and the compiler's share in the last one. Servers
 * without compiler threads (nats-server, Redis; Node's compiler is not a thread of its own) warm up once.
 */
final class WarmUp {

  /** The share of a warm-up's server CPU below which the JIT compiler counts as settled. */
  static final double SETTLED_COMPILER_SHARE = 0.05;
  /** One warm-up run. */
  interface Run {
    void once() throws Exception;
  }

  private WarmUp() {
  }

  /**
   * Runs {@code run} until the JIT of the server's processes {@code pids} settled or {@code boundMs}
   * passed (0: once).
   */
  static void untilJitSettles(String what, List<Long> pids, long boundMs, PrintStream log, Run run) {
    long start = System.currentTimeMillis();
    for (int count = 1; ; count++) {
      ProcessCpu.Sample before = ProcessCpu.sample(pids);
      try {
        run.once();
      } catch (NotAvailableException e) {
        log.println("no warm-up of " + what + ": not available (" + e.reason() + ")");
        return;
      } catch (Exception e) {
        log.println("warm-up of " + what + " failed: " + e);
        return;
      }
      ProcessCpu.Sample used = ProcessCpu.sample(pids).since(before);
      if (used == null || used.processMs() <= 0) {
        return;
      }
      double share = (double) used.compilerMs() / used.processMs();
      log.printf("warm-up %d of %s: JIT compiler %.0f%% of the server's CPU%n", count, what, share * 100);
      if (share < SETTLED_COMPILER_SHARE || System.currentTimeMillis() - start >= boundMs) {
        return;
      }
    }
  }
}
