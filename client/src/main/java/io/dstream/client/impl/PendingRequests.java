package io.dstream.client.impl;

import io.dstream.client.StreamException;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The requests of one connection that wait for their reply, keyed by {@code cMsgId}, in the order
 * they were made, each with its encoded frame so it can be sent again on a new socket.
 *
 * <p>Thread-safe: requests register from any thread while replies, expiry, sends and the close run
 * on the connection's context. Whoever removes an entry completes its promise, so a reply racing a
 * timeout or the close completes it exactly once. The count is bounded so a caller that outruns the
 * broker gets {@link StreamException#TOO_MANY_PENDING} instead of unbounded memory.
 */
final class PendingRequests {

  /** A waiting request; {@code sentOn} (context only) is the socket it was last written to. */
  static final class Pending {
    final long id;
    final Promise<JsonObject> promise;
    final long deadlineNanos;
    final String frame;
    final boolean repeatable;
    WebSocket sentOn;

    private Pending(long id, Promise<JsonObject> promise, long deadlineNanos, String frame, boolean repeatable) {
      this.id = id;
      this.promise = promise;
      this.deadlineNanos = deadlineNanos;
      this.frame = frame;
      this.repeatable = repeatable;
    }
  }

  /** Renders a request's frame once its {@code cMsgId} is known. */
  interface FrameRenderer {
    String render(long requestId);
  }

  private final ConcurrentSkipListMap<Long, Pending> byId = new ConcurrentSkipListMap<>();
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
   * @param repeatable whether the request may be sent again on a new socket after a reconnect
   * @return the new request
   * @throws StreamException with {@link StreamException#TOO_MANY_PENDING} when the bound is reached
   */
  Pending register(Promise<JsonObject> promise, FrameRenderer renderer, boolean repeatable) {
    if (count.incrementAndGet() > maxPending) {
      count.decrementAndGet();
      throw new StreamException(StreamException.TOO_MANY_PENDING,
          maxPending + " requests are already waiting for a reply; retry once some complete");
    }
    long id = nextId.getAndIncrement();
    Pending pending = new Pending(id, promise, System.nanoTime() + timeoutNanos, renderer.render(id), repeatable);
    byId.put(id, pending);
    return pending;
  }

  /** @return the request if it still waits for its reply */
  Pending get(long id) {
    return byId.get(id);
  }

  /** @return the waiting requests, oldest first */
  List<Pending> inOrder() {
    return new ArrayList<>(byId.values());
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

  /** Fails the requests that must not be sent twice; the others wait for the next socket. */
  void failUnrepeatable(StreamException cause) {
    for (Pending pending : byId.values()) {
      if (!pending.repeatable) {
        fail(pending.id, cause);
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
