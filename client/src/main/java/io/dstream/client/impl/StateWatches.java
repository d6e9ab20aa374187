package io.dstream.client.impl;

import io.dstream.client.StateWatch;
import io.dstream.client.StreamException;
import io.dstream.client.VersionedState;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The one state watch a {@link StreamConnectionImpl} may have: starting and ending it, its pushes, and
 * starting it again on a reopened socket. Thread-safe: the watch is swapped atomically; pushes and
 * replies arrive on the connection's context.
 */
final class StateWatches {

  private final String subject;
  /** Sends a command that may be repeated after a reconnect. */
  private final Function<JsonObject, Future<JsonObject>> send;
  private final AtomicReference<StateWatchImpl> current = new AtomicReference<>();

  StateWatches(String subject, Function<JsonObject, Future<JsonObject>> send) {
    this.subject = subject;
    this.send = send;
  }

  Future<StateWatch> watch(Handler<VersionedState> handler) {
    StateWatchImpl created = new StateWatchImpl(this, handler);
    if (!current.compareAndSet(null, created)) {
      return Future.failedFuture(new StreamException(StreamException.ALREADY_SUBSCRIBED,
          "this connection already watches the state of " + subject + "; unwatch first or open another connection"));
    }
    return send.apply(Protocol.command(Protocol.WATCH_STATE))
        .<StateWatch>map(reply -> {
          created.deliver(Protocol.versionedState(reply));
          return created;
        })
        .onFailure(e -> {
          created.deactivate();
          current.compareAndSet(created, null);
        });
  }

  Future<Void> unwatch(StateWatchImpl target) {
    if (!current.compareAndSet(target, null)) {
      return Future.succeededFuture();
    }
    target.deactivate();
    return send.apply(Protocol.command(Protocol.UNWATCH_STATE)).mapEmpty();
  }

  /** A state push ({@link Protocol#STATE_PUSH_MARKER}). */
  void push(JsonObject frame) {
    StateWatchImpl watch = current.get();
    if (watch != null) {
      watch.deliver(Protocol.versionedState(frame));
    }
  }

  /** The socket was reopened: {@code reissue} sends the watch again, whose reply brings the state if it changed. */
  void reopened(BiConsumer<JsonObject, Handler<JsonObject>> reissue) {
    StateWatchImpl watch = current.get();
    if (watch != null && watch.lastRevision() >= 0) {
      reissue.accept(Protocol.command(Protocol.WATCH_STATE), reply -> watch.deliver(Protocol.versionedState(reply)));
    }
  }

  /** The connection is over. */
  void closed() {
    StateWatchImpl watch = current.getAndSet(null);
    if (watch != null) {
      watch.deactivate();
    }
  }
}
