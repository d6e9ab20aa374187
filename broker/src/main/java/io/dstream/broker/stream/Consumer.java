package io.dstream.broker.stream;

import io.dstream.broker.store.StoredMessage;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One subscriber's position and ack window on a subject (JetStream's consumer, in small):
 * {@code nextSequence} is the next message never delivered; {@code pending} holds unacked deliveries
 * by delivery id in the order they were sent (so by deadline); {@code redeliveries} holds expired
 * ones waiting for window room; {@code readAhead} holds the rest of the last page read from the store
 * beyond the window (at most one page), so a replay reads whole pages while the acks come back in
 * small groups. Not thread-safe: owned by one {@link StreamActor}.
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
  private final ArrayDeque<StoredMessage> readAhead = new ArrayDeque<>();

  Consumer(Subscriber subscriber, long nextSequence) {
    this.subscriber = subscriber;
    this.nextSequence = nextSequence;
  }

  /** Keeps consecutive messages read beyond the window, replacing what was kept before. */
  void keepReadAhead(List<StoredMessage> messages) {
    readAhead.clear();
    readAhead.addAll(messages);
  }

  /**
   * The kept message with {@code sequence}, removed, or null. Kept messages below it are stale
   * (deleted meanwhile) and dropped; if the next one kept is not {@code sequence}, nothing kept is
   * usable and all of it is dropped.
   */
  StoredMessage takeReadAhead(long sequence) {
    while (!readAhead.isEmpty() && readAhead.peek().sequence() < sequence) {
      readAhead.poll();
    }
    if (readAhead.isEmpty()) {
      return null;
    }
    if (readAhead.peek().sequence() != sequence) {
      readAhead.clear();
      return null;
    }
    return readAhead.poll();
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
