package io.dstream.client;

import io.vertx.core.Future;

/**
 * The single subscription of a {@link StreamConnection} to its subject: messages are delivered to
 * its handler in sequence order, on the connection's context, until it is unsubscribed or the
 * connection closes.
 */
public interface Subscription {

  /** @return true until {@link #unsubscribe()} is called or the connection closes */
  boolean isActive();

  /**
   * Stops the subscription at once: messages still in flight are dropped unacknowledged, which the
   * broker expects, since it drops their pending deliveries too. Idempotent.
   *
   * @return completes when the broker confirmed
   */
  Future<Void> unsubscribe();
}
