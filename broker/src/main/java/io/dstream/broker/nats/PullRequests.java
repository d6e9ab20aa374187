package io.dstream.broker.nats;

import io.vertx.core.Vertx;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * A pull consumer's waiting {@code MSG.NEXT} requests, in arrival order: each message goes to the
 * oldest one until its batch is full. Several clients pulling from one consumer share it this way
 * (a work queue). A request whose client went away (its inbox has no subscription any more: the
 * connection closed or unsubscribed) is dropped, never handed a message.
 *
 * <p>Thread-safe: the subject actors of a wildcard consumer deliver from their own contexts, and
 * requests arrive on the connections'; every method holds the queue's lock briefly and never calls
 * back into the broker but to write to a socket (thread-safe).
 */
final class PullRequests {

  static final byte[] HEARTBEAT = "NATS/1.0 100 Idle Heartbeat\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  static final byte[] NO_MESSAGES = "NATS/1.0 404 No Messages\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  static final byte[] TIMEOUT = "NATS/1.0 408 Request Timeout\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** A waiting {@code MSG.NEXT}: where its messages go and how many more it wants. */
  static final class Pull {
    final CoreDelivery.Target target;
    private int remaining;
    private final long expiresAtMs;
    private long heartbeatTimer = -1;

    Pull(CoreDelivery.Target target, int batch, long expiresAtMs) {
      this.target = target;
      this.remaining = batch;
      this.expiresAtMs = expiresAtMs;
    }
  }

  private final Vertx vertx;
  private final ArrayDeque<Pull> pulls = new ArrayDeque<>();
  /** {@code pulls.size()}, for readers that need no lock (consumer info, the inactivity check). */
  private volatile int waiting;

  PullRequests(Vertx vertx) {
    this.vertx = vertx;
  }

  /** Queues a request; with {@code heartbeatMs > 0} it gets idle heartbeats while it waits. */
  synchronized Pull add(CoreDelivery.Target target, int batch, long expiresAtMs, long heartbeatMs) {
    Pull pull = new Pull(target, Math.max(1, batch), expiresAtMs);
    pulls.add(pull);
    waiting = pulls.size();
    if (heartbeatMs > 0) {
      pull.heartbeatTimer = vertx.setPeriodic(heartbeatMs, id -> heartbeat(pull));
    }
    return pull;
  }

  private synchronized void heartbeat(Pull pull) {
    if (pulls.contains(pull)) {
      pull.target.status(HEARTBEAT);
    }
  }

  /** Ends {@code pull} with {@code status} (a timeout, no messages) if it still waits. */
  synchronized void end(Pull pull, byte[] status) {
    if (pulls.remove(pull)) {
      finish(pull, status);
    }
  }

  /**
   * Whether a request is waiting for a message now. Expired and abandoned requests at the head are
   * ended first (further back, an expired one ends by its timer, an abandoned one when it comes first).
   */
  synchronized boolean ready(long nowMs) {
    Pull pull;
    while ((pull = pulls.peek()) != null) {
      if (pull.expiresAtMs <= nowMs) {
        finish(pulls.poll(), TIMEOUT);
      } else if (!pull.target.listening()) {
        finish(pulls.poll(), null);
      } else {
        return true;
      }
    }
    return false;
  }

  /**
   * Sends one message to the oldest request that still has a listener; false when none took it
   * (the caller makes it available again at once).
   */
  synchronized boolean deliver(String subject, String ack, byte[] headers, byte[] payload) {
    Pull pull;
    while ((pull = pulls.peek()) != null) {
      if (pull.target.deliver(subject, ack, headers, payload)) {
        if (--pull.remaining == 0) {
          finish(pulls.poll(), null);
        }
        return true;
      }
      finish(pulls.poll(), null);
    }
    return false;
  }

  int waiting() {
    return waiting;
  }

  /** Ends every request (the consumer was deleted), silently. */
  synchronized void clear() {
    while (!pulls.isEmpty()) {
      finish(pulls.poll(), null);
    }
  }

  private void finish(Pull pull, byte[] status) {
    waiting = pulls.size();
    if (pull.heartbeatTimer >= 0) {
      vertx.cancelTimer(pull.heartbeatTimer);
    }
    if (status != null) {
      pull.target.status(status);
    }
  }
}
