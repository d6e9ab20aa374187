package io.dstream.bench.load;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Waits with one time bound for a whole scenario. */
final class Deadline {

  private final long endNanos;

  Deadline(long timeoutMs) {
    this.endNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
  }

  long remainingMs() {
    return Math.max(0, TimeUnit.NANOSECONDS.toMillis(endNanos - System.nanoTime()));
  }

  void check(String what) throws TimeoutException {
    if (System.nanoTime() >= endNanos) {
      throw new TimeoutException(what + " did not finish in time");
    }
  }

  void await(CountDownLatch latch, String what) throws InterruptedException, TimeoutException {
    if (!latch.await(remainingMs(), TimeUnit.MILLISECONDS)) {
      throw new TimeoutException(what + " did not finish in time (" + latch.getCount() + " left)");
    }
  }
}
