package io.dstream.client.impl;

import io.dstream.client.StateWatch;
import io.dstream.client.VersionedState;
import io.vertx.core.Future;
import io.vertx.core.Handler;

/**
 * The state watch of one {@link StreamConnectionImpl} (see {@link StateWatches}). Its handler is given a state only when its
 * revision differs from the last one given: the same state answered again after a reconnect is not
 * repeated, and a lower revision (the subject was destroyed and started again) is passed on.
 *
 * <p>Threading: {@link #deliver} runs on the connection's context; the rest may be called from any thread.
 */
final class StateWatchImpl implements StateWatch {

  private final StateWatches watches;
  private final Handler<VersionedState> handler;
  private volatile boolean active = true;
  private volatile long lastRevision = -1;

  StateWatchImpl(StateWatches watches, Handler<VersionedState> handler) {
    this.watches = watches;
    this.handler = handler;
  }

  void deliver(VersionedState state) {
    if (active && state.revision() != lastRevision) {
      lastRevision = state.revision();
      handler.handle(state);
    }
  }

  void deactivate() {
    active = false;
  }

  @Override
  public boolean isActive() {
    return active;
  }

  @Override
  public long lastRevision() {
    return lastRevision;
  }

  @Override
  public Future<Void> unwatch() {
    return watches.unwatch(this);
  }
}
