package io.dstream.client.impl;

import io.dstream.client.StreamMessage;
import io.dstream.client.Subscription;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import java.lang.System.Logger.Level;

/** Delivers pushes to the user's handler; {@link #deliver} runs on the connection's context only. */
final class SubscriptionImpl implements Subscription {

  private static final System.Logger LOG = System.getLogger(SubscriptionImpl.class.getName());

  private final StreamConnectionImpl connection;
  private final boolean autoAck;
  private final Handler<StreamMessage> handler;
  private volatile boolean active = true;

  SubscriptionImpl(StreamConnectionImpl connection, boolean autoAck, Handler<StreamMessage> handler) {
    this.connection = connection;
    this.autoAck = autoAck;
    this.handler = handler;
  }

  void deliver(StreamMessageImpl message) {
    try {
      handler.handle(message);
    } catch (RuntimeException e) {
      // Not acking is the recovery: the broker redelivers after its ack timeout.
      LOG.log(Level.WARNING, "subscription handler failed on " + connection.subject() + " sequence "
          + message.sequence() + "; left unacknowledged for redelivery", e);
      return;
    }
    if (autoAck) {
      message.ack();
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
  public Future<Void> unsubscribe() {
    return connection.unsubscribe(this);
  }
}
