package io.dstream.client;

import io.vertx.core.Future;

/**
 * The single subscription of a {@link StreamConnection} to its subject: messages are delivered to
 * its handler in sequence order, on the connection's context, until it is unsubscribed or the
 * connection closes for good.
 *
 * <p>Across reconnects the subscription resumes after {@link #lastAckedSequence()}; sequences the
 * handler already received are not given to it again (their redeliveries are acknowledged for it),
 * so the handler sees each sequence once. The one exception is a message whose auto-ack handler
 * threw: it is handed to the handler again when the broker redelivers it.
 */
public interface Subscription {

  /** @return true until {@link #unsubscribe()} is called or the connection closes for good */
  boolean isActive();

  /** @return the highest sequence handed to the handler, 0 before the first */
  long lastDeliveredSequence();

  /**
   * @return the ack floor: every sequence handed to the handler up to it is acknowledged (0 before
   *     the first ack); a reconnect resumes after it
   */
  long lastAckedSequence();

  /**
   * Stops the subscription at once: messages still in flight are dropped unacknowledged, which the
   * broker expects, since it drops their pending deliveries too. Idempotent.
   *
   * @return completes when the broker confirmed
   */
  Future<Void> unsubscribe();
}
