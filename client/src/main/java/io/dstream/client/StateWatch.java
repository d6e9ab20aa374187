package io.dstream.client;

import io.vertx.core.Future;

/**
 * The state watch of a {@link StreamConnection} (one per connection): its handler gets the current
 * state, then every change in revision order, on the connection's context, until it is unwatched or the
 * connection closes for good. A watcher that falls behind its socket's budget skips to the newest change;
 * after a reconnect it gets the current state if it changed meanwhile, so the handler may see gaps in
 * the revisions but never an older state after a newer one.
 */
public interface StateWatch {

  /** @return true until {@link #unwatch()} is called or the connection closes for good */
  boolean isActive();

  /** @return the revision last handed to the handler, -1 before the first */
  long lastRevision();

  /**
   * Stops the watch at once. Idempotent.
   *
   * @return completes when the broker confirmed
   */
  Future<Void> unwatch();
}
