package io.dstream.client.impl;

import io.dstream.client.StreamException;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The requests of one connection that wait for their reply, keyed by {@code cMsgId}.
 *
 * <p>Thread-safe: requests register from any thread while replies, expiry and the close arrive on
 * the connection's context. Whoever removes an entry completes its promise, so a reply racing a
 * timeout or the close completes it exactly once. The count is bounded so a caller that outruns the
 * broker gets {@link StreamException#TOO_MANY_PENDING} instead of unbounded memory.
 */
final class PendingRequests {

  private record Pending(Promise<JsonObject> promise, long deadlineNanos) {
  }

  private final Map<Long, Pending> byId = new ConcurrentHashMap<>();
  private final AtomicLong nextId = new AtomicLong(1);
  private final AtomicInteger count = new AtomicInteger();
  private final int maxPending;
  private final long timeoutNanos;

  /**
   * @param maxPending the most requests that may wait at once
   * @param timeoutNanos how long a request may wait, or 0 for no limit
   */
  PendingRequests(int maxPending, long timeoutNanos) {
    this.maxPending = maxPending;
    this.timeoutNanos = timeoutNanos;
  }

  /**
   * @return the new request's {@code cMsgId}
   * @throws StreamException with {@link StreamException#TOO_MANY_PENDING} when the bound is reached
   */
  long register(Promise<JsonObject> promise) {
    if (count.incrementAndGet() > maxPending) {
      count.decrementAndGet();
      throw new StreamException(StreamException.TOO_MANY_PENDING,
          maxPending + " requests are already waiting for a reply; retry once some complete");
    }
    long id = nextId.getAndIncrement();
    byId.put(id, new Pending(promise, System.nanoTime() + timeoutNanos));
    return id;
  }

  /** @return false if the request was already completed (timed out, failed, or a duplicate reply) */
  boolean complete(long id, JsonObject reply) {
    Pending pending = remove(id);
    return pending != null && pending.promise.tryComplete(reply);
  }

  /** @return false if the request was already completed */
  boolean fail(long id, Throwable cause) {
    Pending pending = remove(id);
    return pending != null && pending.promise.tryFail(cause);
  }

  /** Fails the requests whose deadline has passed; does nothing without a timeout. */
  void expire(long nowNanos) {
    if (timeoutNanos == 0) {
      return;
    }
    for (Map.Entry<Long, Pending> entry : byId.entrySet()) {
      // Deadlines compare by difference: nanoTime may wrap.
      if (nowNanos - entry.getValue().deadlineNanos >= 0) {
        fail(entry.getKey(), new StreamException(StreamException.REQUEST_TIMEOUT,
            "no reply to request " + entry.getKey() + " within " + timeoutNanos / 1_000_000 + " ms"));
      }
    }
  }

  void failAll(StreamException cause) {
    for (Long id : byId.keySet()) {
      fail(id, cause);
    }
  }

  private Pending remove(long id) {
    Pending pending = byId.remove(id);
    if (pending != null) {
      count.decrementAndGet();
    }
    return pending;
  }
}
