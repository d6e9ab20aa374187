package io.dstream.broker.stream;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

/**
 * One subscriber's position and ack window on a subject (JetStream's consumer, in small):
 * {@code nextSequence} is the next message never delivered; {@code pending} holds unacked deliveries
 * by delivery id in the order they were sent (so by deadline: every deadline is the send time plus
 * the same ack wait, and a progress ack moves its delivery to the end); {@code redeliveries} holds
 * ones to send again as soon as the window has room, {@code delayed} those negatively acknowledged
 * with a delay until it passed. Messages read from the store beyond the window wait in the actor's
 * {@link FetchedPages}, shared with its other subscribers. Not thread-safe: owned by one {@link StreamActor}.
 */
final class Consumer {

  /** An unacked delivery. */
  record Pending(long sequence, int deliveries, long deadlineMs) {
  }

  /**
   * A delivery to send again, not before {@code dueMs}. {@code replacedId} is the delivery it comes
   * from (its ack wait ran out, or it was negatively acknowledged), {@link #NO_DELIVERY} for one a
   * resumed consumer brings back: until it is sent again, an ack of that delivery still counts, as
   * nats-server counts a late ack while the message is pending.
   */
  record Redelivery(long sequence, int deliveries, long dueMs, long replacedId) {
  }

  /** No delivery id (they start at a creation time in ms times 1000). */
  static final long NO_DELIVERY = 0;

  final Subscriber subscriber;
  final DeliveryPolicy policy;
  final Map<Long, Pending> pending = new LinkedHashMap<>();
  final ArrayDeque<Redelivery> redeliveries = new ArrayDeque<>();
  final List<Redelivery> delayed = new ArrayList<>();
  long nextSequence;
  boolean fetching;
  /** Deliveries sent again after their ack timeout, for operators ({@link ConsumerView}). */
  long redelivered;

  Consumer(Subscriber subscriber, DeliveryPolicy policy, long nextSequence) {
    this.subscriber = subscriber;
    this.policy = policy;
    this.nextSequence = nextSequence;
  }

  /**
   * Moves deliveries whose deadline passed to the redelivery queue, or drops them after the
   * policy's max deliver, and delayed ones that are due. Returns how many were dropped.
   */
  int expire(long nowMs) {
    int dropped = 0;
    Iterator<Map.Entry<Long, Pending>> it = pending.entrySet().iterator();
    while (it.hasNext()) {
      Map.Entry<Long, Pending> entry = it.next();
      Pending p = entry.getValue();
      if (p.deadlineMs() > nowMs) {
        break;
      }
      it.remove();
      if (p.deliveries() < policy.maxDeliver()) {
        redeliveries.add(new Redelivery(p.sequence(), p.deliveries(), nowMs, entry.getKey()));
      } else {
        dropped++;
      }
    }
    Iterator<Redelivery> waiting = delayed.iterator();
    while (waiting.hasNext()) {
      Redelivery r = waiting.next();
      if (r.dueMs() <= nowMs) {
        waiting.remove();
        redeliveries.add(r);
      }
    }
    return dropped;
  }

  /** The ack floor: every sequence up to it was delivered and acknowledged (or given up after max deliver). */
  long floor() {
    long lowest = nextSequence;
    for (Pending p : pending.values()) {
      lowest = Math.min(lowest, p.sequence());
    }
    for (Redelivery r : redeliveries) {
      lowest = Math.min(lowest, r.sequence());
    }
    for (Redelivery r : delayed) {
      lowest = Math.min(lowest, r.sequence());
    }
    return lowest - 1;
  }

  /** Whether nothing it was sent awaits an ack or a redelivery. */
  boolean settled() {
    return pending.isEmpty() && redeliveries.isEmpty() && delayed.isEmpty();
  }

  /**
   * Acknowledges {@code deliveryId} (and, for {@link DeliveryPolicy.AckMode#ALL}, every earlier one),
   * pending or waiting to be sent again; false if it is neither.
   */
  boolean ack(long deliveryId) {
    if (policy.mode() == DeliveryPolicy.AckMode.ALL) {
      boolean found = pending.containsKey(deliveryId) || waitsAgain(r -> r.replacedId() == deliveryId);
      pending.keySet().removeIf(id -> id <= deliveryId);
      redeliveries.removeIf(r -> r.replacedId() != NO_DELIVERY && r.replacedId() <= deliveryId);
      delayed.removeIf(r -> r.replacedId() != NO_DELIVERY && r.replacedId() <= deliveryId);
      return found;
    }
    return pending.remove(deliveryId) != null || redeliveries.removeIf(r -> r.replacedId() == deliveryId)
        || delayed.removeIf(r -> r.replacedId() == deliveryId);
  }

  private boolean waitsAgain(Predicate<Redelivery> replaced) {
    return redeliveries.stream().anyMatch(replaced) || delayed.stream().anyMatch(replaced);
  }

  /** A negative ack: sent again after {@code delayMs} (at once for 0). False if it is not pending. */
  boolean nak(long deliveryId, long delayMs, long nowMs) {
    Pending p = pending.remove(deliveryId);
    if (p == null) {
      return false;
    }
    Redelivery again = new Redelivery(p.sequence(), p.deliveries(), nowMs + delayMs, deliveryId);
    if (delayMs <= 0) {
      redeliveries.add(again);
    } else {
      delayed.add(again);
    }
    return true;
  }

  /** Work in progress: the delivery's ack wait starts again. False if it is not pending. */
  boolean progress(long deliveryId, long nowMs) {
    Pending p = pending.remove(deliveryId);
    if (p == null) {
      return false;
    }
    pending.put(deliveryId, new Pending(p.sequence(), p.deliveries(), nowMs + policy.ackWaitMs()));
    return true;
  }
}
