package io.dstream.bench.load;

import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;

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

  /**
   * Starts {@code threads}, waits for them within this deadline and returns the nanoseconds they
   * ran; the first failure any of them recorded in {@code failure} is rethrown.
   */
  long runAll(List<Thread> threads, AtomicReference<Throwable> failure, String what)
      throws InterruptedException, TimeoutException {
    long start = System.nanoTime();
    threads.forEach(Thread::start);
    for (Thread thread : threads) {
      thread.join(remainingMs() + 1);
    }
    long nanos = System.nanoTime() - start;
    if (failure.get() != null) {
      throw new IllegalStateException(what + " failed", failure.get());
    }
    check(what);
    return nanos;
  }
}
