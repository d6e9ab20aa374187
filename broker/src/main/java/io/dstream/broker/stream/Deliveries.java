package io.dstream.broker.stream;

import io.dstream.broker.store.StoredMessage;
import io.vertx.core.Context;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The subscribers of one subject and their ack windows ({@link Consumer}s): pushes, acks,
 * redelivery after the ack timeout, and the pull from the {@link LogReader} that feeds them.
 *
 * <p>The actor pulls for each consumer: while its window has room it takes the redelivery queue
 * first, then its next sequence, from memory if it is there, otherwise it reads a page on a worker
 * and continues when the page arrives. Only durable sequences are pushed. Replay and live delivery
 * are the same loop, which is why their hand-over has no gap and no duplicate.
 *
 * <p>Delivery ids never repeat across hibernation and restarts (a reconnecting client may still ack
 * an old one): each incarnation starts at its creation time x 1000, which stays below 2^53 so
 * JavaScript clients read it exactly.
 *
 * <p>Threading: not thread-safe. Owned by one {@link StreamActor} and used on its context.
 * {@link Subscriber} calls happen on that context.
 */
final class Deliveries {

  private static final Logger LOG = LoggerFactory.getLogger(Deliveries.class);
  /** A replay whose read failed (the bucket unreachable) tries again after this. */
  private static final long FETCH_RETRY_MS = 1_000;

  private final String subject;
  private final Context context;
  private final StreamEnvironment env;
  private final WritePipeline numbers;
  private final LogReader log;
  private final Map<Subscriber, Consumer> consumers = new LinkedHashMap<>();
  /** The broker's settings, for subscribers without a policy of their own (protocol v1). */
  private final DeliveryPolicy defaultPolicy;
  private long nextDeliveryId;

  Deliveries(String subject, Context context, StreamEnvironment env, WritePipeline numbers, LogReader log,
             long createdMs) {
    this.subject = subject;
    this.context = context;
    this.env = env;
    this.numbers = numbers;
    this.log = log;
    this.nextDeliveryId = createdMs * 1000;
    this.defaultPolicy = new DeliveryPolicy(env.config().maxInFlight(), env.config().ackTimeout().toMillis(),
        env.config().maxDeliver(), DeliveryPolicy.AckMode.EXPLICIT);
  }

  /**
   * Subscribes (replacing an earlier subscription of {@code subscriber}) from {@code startSequence};
   * {@code unacknowledged} (sequence and delivery count pairs of a resumed consumer) are sent again first.
   */
  void subscribe(Subscriber subscriber, long startSequence, List<long[]> unacknowledged) {
    DeliveryPolicy policy = subscriber.policy() != null ? subscriber.policy() : defaultPolicy;
    Consumer consumer = new Consumer(subscriber, policy, Math.max(startSequence, numbers.firstSequence()));
    long now = env.clock().millis();
    for (long[] sent : unacknowledged) {
      consumer.redeliveries.add(new Consumer.Redelivery(sent[0], (int) sent[1], now, Consumer.NO_DELIVERY));
    }
    consumers.put(subscriber, consumer);
  }

  /** Where {@code subscriber} is, or null when it is not subscribed. */
  ConsumerState state(Subscriber subscriber) {
    Consumer consumer = consumers.get(subscriber);
    if (consumer == null) {
      return null;
    }
    List<long[]> unacknowledged = new ArrayList<>();
    consumer.pending.values().forEach(p -> unacknowledged.add(new long[] {p.sequence(), p.deliveries()}));
    consumer.redeliveries.forEach(r -> unacknowledged.add(new long[] {r.sequence(), r.deliveries()}));
    consumer.delayed.forEach(r -> unacknowledged.add(new long[] {r.sequence(), r.deliveries()}));
    unacknowledged.sort((a, b) -> Long.compare(a[0], b[0]));
    return new ConsumerState(consumer.nextSequence, unacknowledged, consumer.pending.size(), consumer.redelivered,
        numbers.lastDurable());
  }

  /** Starts pushing to a new subscription (after its reply went out), or again after its connection drained. */
  void start(Subscriber subscriber) {
    Consumer consumer = consumers.get(subscriber);
    if (consumer != null) {
      pump(consumer);
    }
  }

  /** Drops {@code subscriber} and its pending deliveries. */
  void remove(Subscriber subscriber) {
    consumers.remove(subscriber);
  }

  /** Acknowledges deliveries in order, each freeing its window slot, then refills the window once. */
  void ack(Subscriber subscriber, long[] deliveryIds) {
    Consumer consumer = consumers.get(subscriber);
    for (long deliveryId : deliveryIds) {
      if (consumer == null || !consumer.ack(deliveryId)) {
        env.metrics().unknownAcks.increment();
        subscriber.unknownAck(deliveryId);
      }
    }
    if (consumer != null) {
      pump(consumer);
    }
  }

  /**
   * A negative ack: the delivery is sent again after {@code delayMs} (at once for 0). Here and in
   * {@link #progress} and {@link #terminate}, a delivery that is not pending is ignored, as JetStream does.
   */
  void nak(Subscriber subscriber, long deliveryId, long delayMs) {
    Consumer consumer = consumers.get(subscriber);
    if (consumer != null) {
      consumer.nak(deliveryId, delayMs, env.clock().millis());
      pump(consumer);
    }
  }

  /** Work in progress: the delivery's ack wait starts again. */
  void progress(Subscriber subscriber, long deliveryId) {
    Consumer consumer = consumers.get(subscriber);
    if (consumer != null) {
      consumer.progress(deliveryId, env.clock().millis());
      pump(consumer);
    }
  }

  /** The delivery is dropped and never sent again. */
  void terminate(Subscriber subscriber, long deliveryId) {
    Consumer consumer = consumers.get(subscriber);
    if (consumer != null) {
      consumer.pending.remove(deliveryId);
      pump(consumer);
    }
  }

  /** New durable messages: every window refills. */
  void pumpAll() {
    consumers.values().forEach(this::pump);
  }

  /** Expires overdue deliveries and refills windows that have redeliveries. */
  void tick(long nowMs) {
    for (Consumer consumer : consumers.values()) {
      int dropped = consumer.expire(nowMs);
      if (dropped > 0) {
        env.metrics().droppedAfterMaxDeliver.increment(dropped);
        LOG.debug("subject '{}': {} messages skipped for a subscriber after {} deliveries", subject, dropped,
            consumer.policy.maxDeliver());
      }
      if (!consumer.redeliveries.isEmpty()) {
        pump(consumer);
      }
    }
  }

  /**
   * The highest sequence a work queue may drop now: the lowest ack floor of the consumers whose
   * policy {@link DeliveryPolicy#removesAcked removes acked messages}, or 0 without such a consumer.
   * Messages acknowledged above a floor stay until the floor passes them; they are never sent to
   * that consumer again (they are below its next sequence and in none of its queues).
   */
  long removableUpTo() {
    long upTo = Long.MAX_VALUE;
    for (Consumer consumer : consumers.values()) {
      if (consumer.policy.removesAcked()) {
        upTo = Math.min(upTo, Math.min(consumer.floor(), numbers.lastDurable()));
      }
    }
    return upTo == Long.MAX_VALUE ? 0 : upTo;
  }

  /**
   * Drops {@code subscriber} if it has nothing to wait for: every message sent to it acknowledged,
   * none durable it was not sent, and (a work queue's consumer) nothing acknowledged still to be
   * removed. Returns its next sequence then, else -1 (it stays subscribed).
   */
  long releaseIfSettled(Subscriber subscriber) {
    Consumer consumer = consumers.get(subscriber);
    if (consumer == null || consumer.fetching || !consumer.settled()
        || consumer.nextSequence <= numbers.lastDurable()
        || consumer.policy.removesAcked() && numbers.firstSequence() < consumer.nextSequence
            && numbers.messages() > 0) {
      return -1;
    }
    consumers.remove(subscriber);
    return consumer.nextSequence;
  }

  /** Pushes awaiting an ack. */
  int inFlight() {
    int pending = 0;
    for (Consumer consumer : consumers.values()) {
      pending += consumer.pending.size();
    }
    return pending;
  }

  int subscribers() {
    return consumers.size();
  }

  /** The consumers as operators see them. */
  List<ConsumerView> views() {
    List<ConsumerView> views = new ArrayList<>(consumers.size());
    for (Consumer consumer : consumers.values()) {
      views.add(new ConsumerView(consumer.subscriber.description(), consumer.nextSequence, consumer.pending.size(),
          consumer.policy.window(), Math.max(0, numbers.lastDurable() - consumer.nextSequence + 1),
          consumer.redeliveries.size(), consumer.redelivered));
    }
    return views;
  }

  boolean isEmpty() {
    return consumers.isEmpty();
  }

  /** Another node serves the subject now (cluster mode): every subscriber is told and dropped. */
  void moved() {
    List<Subscriber> subscribers = new ArrayList<>(consumers.keySet());
    consumers.clear();
    subscribers.forEach(Subscriber::subjectMoved);
  }

  /** The subject was destroyed: every subscriber is told and dropped. */
  void destroyed() {
    List<Subscriber> subscribers = new ArrayList<>(consumers.keySet());
    consumers.clear();
    subscribers.forEach(Subscriber::subjectDestroyed);
  }

  /**
   * Delivers from the redelivery queue, then new messages, while the ack window has room and the
   * subscriber's connection takes more ({@link Subscriber#mayPush}).
   */
  private void pump(Consumer consumer) {
    int maxInFlight = consumer.policy.window();
    while (!consumer.fetching && consumer.pending.size() < maxInFlight) {
      Consumer.Redelivery redelivery = consumer.redeliveries.peek();
      if (!consumer.subscriber.mayPush(redelivery != null)) {
        return;
      }
      long sequence;
      if (redelivery != null) {
        sequence = redelivery.sequence();
        if (sequence < numbers.firstSequence()) {
          consumer.redeliveries.poll();
          continue;
        }
      } else {
        consumer.nextSequence = Math.max(consumer.nextSequence, numbers.firstSequence());
        sequence = consumer.nextSequence;
        if (sequence > numbers.lastDurable()) {
          return;
        }
      }
      CachedMessage cached = log.inMemory(sequence);
      if (cached == null) {
        fetch(consumer, sequence, redelivery != null ? 1 : LogReader.PAGE_MESSAGES);
        return;
      }
      deliverNext(consumer, cached);
    }
  }

  /** Pushes {@code message}, which is the head of the redelivery queue or the consumer's next sequence. */
  private void deliverNext(Consumer consumer, CachedMessage message) {
    long sequence = message.sequence();
    Consumer.Redelivery redelivery = consumer.redeliveries.peek();
    int deliveries;
    if (redelivery != null && redelivery.sequence() == sequence) {
      consumer.redeliveries.poll();
      deliveries = redelivery.deliveries() + 1;
      consumer.redelivered++;
      env.metrics().redelivered.increment();
    } else {
      consumer.nextSequence = sequence + 1;
      deliveries = 1;
    }
    long deliveryId = nextDeliveryId++;
    if (consumer.policy.mode() != DeliveryPolicy.AckMode.NONE) {
      long deadline = env.clock().millis() + consumer.policy.ackWaitMs();
      consumer.pending.put(deliveryId, new Consumer.Pending(sequence, deliveries, deadline));
    }
    env.metrics().delivered.increment();
    consumer.subscriber.push(sequence, deliveryId, deliveries, message.timestampMs(),
        Math.max(0, numbers.lastDurable() - consumer.nextSequence + 1), message.stored());
  }

  private void fetch(Consumer consumer, long from, int count) {
    consumer.fetching = true;
    log.read(from, count).onComplete(ar -> {
      consumer.fetching = false;
      if (consumers.get(consumer.subscriber) != consumer) {
        return;
      }
      if (ar.failed()) {
        LOG.warn("reading '{}' from sequence {} failed ({}); retrying in {} ms", subject, from, ar.cause().toString(),
            FETCH_RETRY_MS);
        context.owner().setTimer(FETCH_RETRY_MS, id -> {
          if (consumers.get(consumer.subscriber) == consumer) {
            pump(consumer);
          }
        });
        return;
      }
      deliverFetched(consumer, from, ar.result());
      pump(consumer);
    });
  }

  private void deliverFetched(Consumer consumer, long from, List<StoredMessage> fetched) {
    boolean redelivering = !consumer.redeliveries.isEmpty() && consumer.redeliveries.peek().sequence() == from;
    if (fetched.isEmpty() || fetched.get(0).sequence() != from) {
      if (redelivering) {
        consumer.redeliveries.poll();
      } else if (from >= numbers.firstSequence()) {
        long resume = fetched.isEmpty() ? from + 1 : fetched.get(0).sequence();
        LOG.error("subject '{}' has no message {} although it is retained; skipping to {}", subject, from, resume);
        consumer.nextSequence = resume;
      }
      if (fetched.isEmpty() || redelivering) {
        return;
      }
    }
    List<CachedMessage> page = new ArrayList<>(fetched.size());
    for (StoredMessage message : fetched) {
      if (message.sequence() > numbers.lastDurable() || !page.isEmpty()
          && message.sequence() != page.get(page.size() - 1).sequence() + 1) {
        break;
      }
      page.add(new CachedMessage(message.sequence(), message.timestampMs(), message.payload()));
    }
    log.keep(page);
    int room = consumer.policy.window() - consumer.pending.size();
    for (int i = 0; i < page.size() && i < room; i++) {
      CachedMessage message = page.get(i);
      boolean expected = redelivering ? message.sequence() == from : message.sequence() == consumer.nextSequence;
      if (!expected || !consumer.subscriber.mayPush(redelivering)) {
        return;
      }
      deliverNext(consumer, message);
      if (redelivering) {
        return;
      }
    }
  }
}
