package io.dstream.broker.limits;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The broker-wide budget for the bytes clients make the broker hold: replies and pushes queued for
 * connections that have not taken them yet, request bodies read but not yet answered, and upload
 * buffers. Work that would take the total over the limit is refused ({@link #tryReserve} fails and
 * the caller answers {@code overloaded}) instead of the heap running out. Bytes that must be held
 * whatever the total (the reply to a request already admitted, a push of a bounded window) are
 * {@link #add added} unconditionally; {@link #exhausted} then makes the views stop taking more.
 *
 * <p>Thread-safe: one atomic counter, shared by every event loop.
 */
public final class MemoryBudget {

  /** What a client refused for this budget is told, on every surface. */
  public static final String EXHAUSTED_MESSAGE = "the broker's memory budget is exhausted; retry later";

  private final long limitBytes;
  private final AtomicLong held = new AtomicLong();

  public MemoryBudget(long limitBytes) {
    if (limitBytes <= 0) {
      throw new IllegalArgumentException("the memory budget must be > 0, got " + limitBytes);
    }
    this.limitBytes = limitBytes;
  }

  /** Holds {@code bytes} more if the total stays within the limit; false (and nothing held) otherwise. */
  public boolean tryReserve(long bytes) {
    long current;
    do {
      current = held.get();
      if (current + bytes > limitBytes) {
        return false;
      }
    } while (!held.compareAndSet(current, current + bytes));
    return true;
  }

  /** Holds {@code bytes} more whatever the total. */
  public void add(long bytes) {
    held.addAndGet(bytes);
  }

  public void release(long bytes) {
    held.addAndGet(-bytes);
  }

  /** True when the total reached the limit: nothing new should be taken on. */
  public boolean exhausted() {
    return held.get() >= limitBytes;
  }

  public long heldBytes() {
    return held.get();
  }

  public long limitBytes() {
    return limitBytes;
  }
}
