package io.dstream.broker.ws;

import io.dstream.broker.limits.MemoryBudget;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The bytes one WebSocket makes the broker hold: its replies and pushes until they have left the
 * broker (handed to the kernel), and its requests from the moment they are read until their replies
 * have left. Every byte counted here is counted in the broker-wide {@link MemoryBudget} too.
 *
 * <p>Thread-safe: requests are counted on the socket's context, pushes and replies on the actor's,
 * and write completions release on the socket's.
 */
final class SocketBudget {

  private final MemoryBudget broker;
  private final long limitBytes;
  private final AtomicLong held = new AtomicLong();

  SocketBudget(MemoryBudget broker, long limitBytes) {
    this.broker = broker;
    this.limitBytes = limitBytes;
  }

  /**
   * Admits a request that may make the socket hold {@code bytes}: false if the socket already holds
   * something and would go over its limit (the request waits until replies left). The first request
   * of an idle socket is always admitted, so a request larger than the limit is served alone.
   */
  boolean fits(long bytes) {
    long current = held.get();
    return current == 0 || current + bytes <= limitBytes;
  }

  /** Holds {@code bytes} of an admitted request if the broker-wide budget has room; false otherwise. */
  boolean tryReserve(long bytes) {
    if (!broker.tryReserve(bytes)) {
      return false;
    }
    held.addAndGet(bytes);
    return true;
  }

  /** Holds bytes that must be sent whatever the budgets say (a reply, an error, a push of the window). */
  void add(long bytes) {
    held.addAndGet(bytes);
    broker.add(bytes);
  }

  /** Returns the socket's holding after releasing {@code bytes}. */
  long release(long bytes) {
    broker.release(bytes);
    return held.addAndGet(-bytes);
  }

  /** Over its own limit: the socket is not read and gets no pushes until it drains. */
  boolean over() {
    return held.get() >= limitBytes;
  }

  /**
   * Whether one more push may be queued: the socket is under its limit and, while the broker-wide
   * budget is exhausted, holds nothing at all (a client that takes what it is sent keeps being
   * served one message at a time; one that does not gets nothing more). A redelivery waits until
   * every earlier push has left: resending what the client never received helps nobody.
   */
  boolean mayPush(boolean redelivery) {
    long current = held.get();
    if (current == 0) {
      return true;
    }
    return !redelivery && current < limitBytes && !broker.exhausted();
  }

  /** Low enough to resume reading and pushing: at most half the limit. */
  boolean drained() {
    return held.get() <= limitBytes / 2;
  }

  long heldBytes() {
    return held.get();
  }
}
