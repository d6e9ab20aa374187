package io.dstream.broker.stream;


import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One subscriber's position and ack window on a subject (JetStream's consumer, in small):
 * {@code nextSequence} is the next message never delivered; {@code pending} holds unacked deliveries
 * by delivery id in the order they were sent (so by deadline); {@code redeliveries} holds expired
 * ones waiting for window room. Messages read from the store beyond the window wait in the actor's
 * {@link FetchedPages}, shared with its other subscribers. Not thread-safe: owned by one {@link StreamActor}.
 */
final class Consumer {

  /** An unacked delivery. */
  record Pending(long sequence, int deliveries, long deadlineMs) {
  }

  /** An expired delivery to send again. */
  record Redelivery(long sequence, int deliveries) {
  }

  final Subscriber subscriber;
  final Map<Long, Pending> pending = new LinkedHashMap<>();
  final ArrayDeque<Redelivery> redeliveries = new ArrayDeque<>();
  long nextSequence;
  boolean fetching;
  /** Deliveries sent again after their ack timeout, for operators ({@link ConsumerView}). */
  long redelivered;

  Consumer(Subscriber subscriber, long nextSequence) {
    this.subscriber = subscriber;
    this.nextSequence = nextSequence;
  }

  /**
   * Moves deliveries whose deadline passed to the redelivery queue, or drops them after
   * {@code maxDeliver} deliveries. Returns how many were dropped.
   */
  int expire(long nowMs, int maxDeliver) {
    int dropped = 0;
    Iterator<Pending> it = pending.values().iterator();
    while (it.hasNext()) {
      Pending p = it.next();
      if (p.deadlineMs() > nowMs) {
        break;
      }
      it.remove();
      if (p.deliveries() < maxDeliver) {
        redeliveries.add(new Redelivery(p.sequence(), p.deliveries()));
      } else {
        dropped++;
      }
    }
    return dropped;
  }
}
