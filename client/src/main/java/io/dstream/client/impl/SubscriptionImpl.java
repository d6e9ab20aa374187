package io.dstream.client.impl;

import io.dstream.client.SubscribeOptions;
import io.dstream.client.Subscription;
import io.dstream.client.StreamMessage;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import java.lang.System.Logger.Level;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * Delivers pushes to the user's handler, each sequence once, and tracks what was delivered and acked.
 *
 * <p>{@code unacked} maps each sequence handed to the handler but not yet acked to its latest push:
 * a redelivery (after the ack timeout, or on a new socket after a reconnect) replaces the push there,
 * so a late {@link StreamMessage#ack()} acknowledges the delivery the broker is waiting for. A
 * redelivery of a sequence already acked means the ack was lost with the old socket: it is acked
 * again at once, without the handler. An ack for a push of an earlier socket is not sent at all: the
 * broker forgot that delivery with the socket, and the redelivery it makes is acked when it arrives.
 *
 * <p>Threading: {@link #deliver} runs on the connection's context only; {@link #ack} may come from
 * any thread; the map is concurrent and {@code lastDelivered} is written on the context only.
 */
final class SubscriptionImpl implements Subscription {

  private static final System.Logger LOG = System.getLogger(SubscriptionImpl.class.getName());

  private final StreamConnectionImpl connection;
  private final boolean autoAck;
  private final Handler<StreamMessage> handler;
  /** A push and the socket generation it came on. */
  private record Delivery(JsonObject push, long generation) {
  }

  private final ConcurrentSkipListMap<Long, Delivery> unacked = new ConcurrentSkipListMap<>();
  private final long initialStartSequence;
  private final Long initialStartTime;
  private volatile long lastDelivered;
  private volatile boolean active = true;
  private volatile boolean confirmed;

  /**
   * @param startSequence the resolved start sequence, or 0 for the first retained (or a start time)
   * @param startTime the start time in epoch ms, or null
   */
  SubscriptionImpl(StreamConnectionImpl connection, SubscribeOptions options, long startSequence, Long startTime,
      Handler<StreamMessage> handler) {
    this.connection = connection;
    this.autoAck = options.autoAck();
    this.handler = handler;
    this.initialStartSequence = startSequence;
    this.initialStartTime = startTime;
  }

  /** @return the subscribe command that starts (or resumes) this subscription */
  JsonObject subscribeCommand() {
    JsonObject command = Protocol.command(Protocol.SUBSCRIBE);
    if (lastDelivered > 0) {
      command.put(Protocol.START_SEQUENCE, lastAckedSequence() + 1);
    } else if (initialStartTime != null) {
      command.put(Protocol.START_TIME, initialStartTime);
    } else if (initialStartSequence > 0) {
      command.put(Protocol.START_SEQUENCE, initialStartSequence);
    }
    return command;
  }

  void confirm() {
    confirmed = true;
  }

  /** @return true once the broker accepted the first subscribe, so a reconnect must resubscribe */
  boolean confirmed() {
    return confirmed;
  }

  void deliver(JsonObject push, long sequence, long generation) {
    if (!active) {
      return;
    }
    Delivery delivery = new Delivery(push, generation);
    if (sequence <= lastDelivered) {
      Delivery previous = unacked.computeIfPresent(sequence, (s, old) -> delivery);
      if (previous == null) {
        connection.sendAck(Protocol.ack(push), sequence);
        return;
      }
      if (!autoAck) {
        return;
      }
      // Auto-ack and still unacked: the handler threw on the earlier delivery; this is its retry.
    } else {
      unacked.put(sequence, delivery);
      lastDelivered = sequence;
    }
    StreamMessageImpl message = new StreamMessageImpl(this, push, sequence);
    try {
      handler.handle(message);
    } catch (RuntimeException e) {
      // Not acking is the recovery: the broker redelivers after its ack timeout.
      LOG.log(Level.WARNING, "subscription handler failed on " + connection.subject() + " sequence "
          + sequence + "; left unacknowledged for redelivery", e);
      return;
    }
    if (autoAck) {
      message.ack();
    }
  }

  void ack(long sequence) {
    Delivery delivery = unacked.remove(sequence);
    if (delivery != null && active && delivery.generation() == connection.generation()) {
      connection.sendAck(Protocol.ack(delivery.push()), sequence);
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
  public long lastDeliveredSequence() {
    return lastDelivered;
  }

  @Override
  public long lastAckedSequence() {
    long delivered = lastDelivered;
    Map.Entry<Long, Delivery> oldestUnacked = unacked.firstEntry();
    return oldestUnacked == null ? delivered : Math.min(delivered, oldestUnacked.getKey() - 1);
  }

  @Override
  public Future<Void> unsubscribe() {
    return connection.unsubscribe(this);
  }
}
