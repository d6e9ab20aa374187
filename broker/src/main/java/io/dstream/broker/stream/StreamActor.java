package io.dstream.broker.stream;

import io.dstream.broker.store.StoreException;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.WriteBatch;
import io.vertx.core.Context;
import io.vertx.core.Handler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * The single owner of one subject: it assigns sequences, sends writes to the group-commit writer,
 * holds the state object, the subscribers and their ack windows.
 *
 * <p>Threading: every public method may be called from any thread; the work runs on the actor's
 * {@link Context} (its shard's event loop), in call order. Callbacks run on that context too. No
 * field is touched from anywhere else, so there are no locks.
 *
 * <p>Writes: at most one {@link WriteBatch} per actor is at the writer; what arrives meanwhile is
 * collected and sent as the next batch when the first completes. Under load batches grow by
 * themselves; when idle a publish waits for exactly one commit. Replies (and pushes) for a write go
 * out only after the commit holding it returned. Subscribers only ever see committed sequences.
 */
public final class StreamActor {

  private static final Logger LOG = LoggerFactory.getLogger(StreamActor.class);
  private static final int FETCH_PAGE = 256;
  private static final long FETCH_MAX_BYTES = 4L * 1024 * 1024;

  private enum Phase { LOADING, READY, FAILED }

  /** A request waiting for the load, with the way to refuse it if the load fails. */
  private record Deferred(Runnable task, java.util.function.Consumer<Throwable> onFailure) {
  }

  /** A write's reply, run after its batch committed or failed. */
  private interface Completion {
    void succeeded();

    void failed(Throwable failure);
  }

  private final String subject;
  private final Context context;
  private final StreamEnvironment env;
  private final MessageCache cache;
  private final Map<Subscriber, Consumer> consumers = new LinkedHashMap<>();
  private final List<Deferred> deferred = new ArrayList<>();
  private Throwable loadFailure;
  private Phase phase = Phase.LOADING;

  private long subjectId;
  private long firstSequence = 1;
  private long lastAssigned;
  private long lastDurable;
  private long messages;
  private long bytes;
  private byte[] state;

  private List<StoreWrite> nextWrites = new ArrayList<>();
  private List<Completion> nextCompletions = new ArrayList<>();
  private List<Completion> inFlightCompletions;
  private long inFlightLastSequence;

  private int attachedSessions;
  private long lastActivityMs;
  private long nextDeliveryId;

  StreamActor(String subject, Context context, StreamEnvironment env) {
    this.subject = subject;
    this.context = context;
    this.env = env;
    this.cache = new MessageCache(env.config().actorCacheMessages(), env.config().actorCacheBytes());
    this.lastActivityMs = env.clock().millis();
    // Delivery ids must not repeat across hibernation and restarts (a reconnecting client may still
    // ack an old one): each incarnation starts at its creation time x 1000, which stays below 2^53
    // so JavaScript clients read it exactly.
    this.nextDeliveryId = lastActivityMs * 1000;
  }

  public String subject() {
    return subject;
  }

  /**
   * Loads the subject's record off the event loop; requests queue until it is there. If the load
   * fails they are refused and {@code onFailure} lets the shard forget this actor, so the next
   * request tries again.
   */
  void load(Handler<Throwable> onFailure) {
    env.readers().executeBlocking(() -> env.store().open(subject), false).onComplete(ar -> {
      if (ar.failed()) {
        LOG.error("loading subject '{}' failed", subject, ar.cause());
        phase = Phase.FAILED;
        loadFailure = new StoreException("subject '" + subject + "' could not be loaded: " + ar.cause().getMessage(),
            ar.cause());
        deferred.forEach(d -> d.onFailure().accept(loadFailure));
        deferred.clear();
        onFailure.handle(ar.cause());
        return;
      }
      SubjectRecord record = ar.result();
      subjectId = record.id();
      lastAssigned = record.lastSequence();
      lastDurable = record.lastSequence();
      adopt(record);
      phase = Phase.READY;
      deferred.forEach(d -> d.task().run());
      deferred.clear();
    });
  }

  private void adopt(SubjectRecord record) {
    firstSequence = record.firstSequence();
    messages = record.messages();
    bytes = record.bytes();
    state = record.state();
  }

  private void run(Runnable task, java.util.function.Consumer<Throwable> onFailure) {
    context.runOnContext(v -> {
      lastActivityMs = env.clock().millis();
      switch (phase) {
        case LOADING:
          deferred.add(new Deferred(task, onFailure));
          break;
        case FAILED:
          onFailure.accept(loadFailure);
          break;
        default:
          task.run();
      }
    });
  }

  private static <T> java.util.function.Consumer<Throwable> failing(BiConsumer<T, Throwable> onDone) {
    return failure -> onDone.accept(null, failure);
  }

  // ---- sessions -------------------------------------------------------------------------------

  /** A socket is attached; attached actors never hibernate. Called on the shard context. */
  void attach() {
    attachedSessions++;
    lastActivityMs = env.clock().millis();
  }

  /** A socket attached by {@link StreamRegistry#attach} never started (its upgrade failed). */
  public void detach() {
    context.runOnContext(v -> {
      attachedSessions--;
      lastActivityMs = env.clock().millis();
    });
  }

  /** The socket closed: its subscription and pending deliveries go with it. */
  public void detach(Subscriber subscriber) {
    context.runOnContext(v -> {
      attachedSessions--;
      consumers.remove(subscriber);
      lastActivityMs = env.clock().millis();
    });
  }

  // ---- writes ---------------------------------------------------------------------------------

  /**
   * Publishes a message: assigns the next sequence, renders the stored object and completes
   * {@code onDone} once it is durable (or with the failure), before any subscriber sees it.
   */
  public void publish(MessageTemplate template, BiConsumer<Published, Throwable> onDone) {
    run(() -> {
      long sequence = lastAssigned + 1;
      String json;
      try {
        json = template.render(sequence);
      } catch (RuntimeException e) {
        onDone.accept(null, e);
        return;
      }
      lastAssigned = sequence;
      long timestamp = env.clock().millis();
      byte[] payload = json.getBytes(StandardCharsets.UTF_8);
      cache.add(new CachedMessage(sequence, timestamp, json, payload.length));
      Published published = new Published(sequence, timestamp, json);
      enqueue(new StoreWrite.Append(sequence, timestamp, payload), new Completion() {
        @Override
        public void succeeded() {
          env.metrics().published.increment();
          onDone.accept(published, null);
        }

        @Override
        public void failed(Throwable failure) {
          env.metrics().publishFailed.increment();
          onDone.accept(null, failure);
        }
      });
    }, failing(onDone));
  }

  /** Replaces the state object (UTF-8 JSON of an object); {@code onDone} runs once it is durable. */
  public void putState(byte[] stateJson, BiConsumer<Long, Throwable> onDone) {
    run(() -> enqueue(new StoreWrite.PutState(stateJson), completion(onDone)), failing(onDone));
  }

  /** Deletes retained messages up to {@code upTo}; the last sequence stays. */
  public void deleteMessages(long upTo, BiConsumer<Long, Throwable> onDone) {
    run(() -> enqueue(new StoreWrite.DeleteUpTo(Math.min(upTo, lastAssigned)), completion(onDone)), failing(onDone));
  }

  private Completion completion(BiConsumer<Long, Throwable> onDone) {
    return new Completion() {
      @Override
      public void succeeded() {
        onDone.accept(lastDurable, null);
      }

      @Override
      public void failed(Throwable failure) {
        onDone.accept(null, failure);
      }
    };
  }

  private void enqueue(StoreWrite write, Completion completion) {
    nextWrites.add(write);
    nextCompletions.add(completion);
    flushWrites();
  }

  private void flushWrites() {
    if (inFlightCompletions != null || nextWrites.isEmpty()) {
      return;
    }
    List<StoreWrite> writes = nextWrites;
    inFlightCompletions = nextCompletions;
    inFlightLastSequence = lastAssigned;
    nextWrites = new ArrayList<>();
    nextCompletions = new ArrayList<>();
    if (!env.writer().submit(new WriteBatch(subject, writes, context, this::written))) {
      written(null, new OverloadedException("broker overloaded: the write queue is full, retry later"));
    }
  }

  private void written(SubjectRecord record, Throwable failure) {
    List<Completion> completions = inFlightCompletions;
    inFlightCompletions = null;
    if (failure != null) {
      failWrites(completions, failure);
      return;
    }
    lastDurable = inFlightLastSequence;
    adopt(record);
    cache.dropUpTo(firstSequence - 1);
    for (Completion completion : completions) {
      completion.succeeded();
    }
    consumers.values().forEach(this::pump);
    flushWrites();
  }

  /**
   * A failed batch takes every later write with it: their sequences follow the failed ones, so
   * assigning is rewound to the last durable sequence and the publishers get errors.
   */
  private void failWrites(List<Completion> completions, Throwable failure) {
    List<Completion> later = nextCompletions;
    nextWrites = new ArrayList<>();
    nextCompletions = new ArrayList<>();
    lastAssigned = lastDurable;
    cache.truncateAfter(lastDurable);
    completions.forEach(c -> c.failed(failure));
    later.forEach(c -> c.failed(failure));
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Current numbers, acknowledged writes only. */
  public void info(BiConsumer<StreamInfo, Throwable> onInfo) {
    run(() -> onInfo.accept(currentInfo(), null), failing(onInfo));
  }

  private StreamInfo currentInfo() {
    return new StreamInfo(firstSequence, lastDurable, messages, bytes, consumers.size());
  }

  /** The state object (UTF-8 JSON) with the last durable sequence. */
  public void getState(BiConsumer<StateSnapshot, Throwable> onState) {
    run(() -> onState.accept(new StateSnapshot(state, lastDurable), null), failing(onState));
  }

  // ---- subscriptions --------------------------------------------------------------------------

  /**
   * Subscribes (or re-subscribes, replacing the previous subscription and its pending deliveries)
   * from {@code startSequence}; values {@code <= 0} mean the first retained message.
   * {@code onSubscribed} gets the last durable sequence and runs before the first push.
   */
  public void subscribe(Subscriber subscriber, long startSequence, BiConsumer<Long, Throwable> onSubscribed) {
    run(() -> {
      Consumer consumer = new Consumer(subscriber, Math.max(startSequence, firstSequence));
      consumers.put(subscriber, consumer);
      onSubscribed.accept(lastDurable, null);
      pump(consumer);
    }, failing(onSubscribed));
  }

  /** Stops pushing to {@code subscriber}; its pending deliveries are dropped. */
  public void unsubscribe(Subscriber subscriber, BiConsumer<Long, Throwable> onDone) {
    run(() -> {
      consumers.remove(subscriber);
      onDone.accept(lastDurable, null);
    }, failing(onDone));
  }

  /** Acknowledges a delivery; frees its window slot. */
  public void ack(Subscriber subscriber, long deliveryId) {
    ack(subscriber, new long[] {deliveryId});
  }

  /**
   * Acknowledges deliveries in order with one hop to the actor's context (a socket's acks of one
   * event-loop turn), then refills the window once, so the pushes that follow leave in one batch.
   */
  public void ack(Subscriber subscriber, long[] deliveryIds) {
    run(() -> {
      Consumer consumer = consumers.get(subscriber);
      for (long deliveryId : deliveryIds) {
        if (consumer == null || consumer.pending.remove(deliveryId) == null) {
          env.metrics().unknownAcks.increment();
          subscriber.unknownAck(deliveryId);
        }
      }
      if (consumer != null) {
        pump(consumer);
      }
    }, failure -> { });
  }

  /** Delivers from the redelivery queue, then new messages, while the ack window has room. */
  private void pump(Consumer consumer) {
    int maxInFlight = env.config().maxInFlight();
    while (!consumer.fetching && consumer.pending.size() < maxInFlight) {
      Consumer.Redelivery redelivery = consumer.redeliveries.peek();
      long sequence;
      if (redelivery != null) {
        sequence = redelivery.sequence();
        if (sequence < firstSequence) {
          consumer.redeliveries.poll();
          continue;
        }
      } else {
        consumer.nextSequence = Math.max(consumer.nextSequence, firstSequence);
        sequence = consumer.nextSequence;
        if (sequence > lastDurable) {
          return;
        }
      }
      CachedMessage cached = cache.get(sequence);
      if (cached == null) {
        int room = redelivery != null ? 1 : Math.min(FETCH_PAGE, maxInFlight - consumer.pending.size());
        fetch(consumer, sequence, room);
        return;
      }
      deliverNext(consumer, sequence, cached.json());
    }
  }

  /** Pushes {@code sequence}, which is the head of the redelivery queue or the consumer's next sequence. */
  private void deliverNext(Consumer consumer, long sequence, String json) {
    Consumer.Redelivery redelivery = consumer.redeliveries.peek();
    int deliveries;
    if (redelivery != null && redelivery.sequence() == sequence) {
      consumer.redeliveries.poll();
      deliveries = redelivery.deliveries() + 1;
      env.metrics().redelivered.increment();
    } else {
      consumer.nextSequence = sequence + 1;
      deliveries = 1;
    }
    long deliveryId = nextDeliveryId++;
    long deadline = env.clock().millis() + env.config().ackTimeout().toMillis();
    consumer.pending.put(deliveryId, new Consumer.Pending(sequence, deliveries, deadline));
    env.metrics().delivered.increment();
    consumer.subscriber.push(sequence, deliveryId, json);
  }

  private void fetch(Consumer consumer, long from, int count) {
    consumer.fetching = true;
    long subjectIdToRead = subjectId;
    env.readers().executeBlocking(() -> env.store().read(subjectIdToRead, from, count, FETCH_MAX_BYTES), false)
        .onComplete(ar -> {
          consumer.fetching = false;
          if (consumers.get(consumer.subscriber) != consumer) {
            return;
          }
          if (ar.failed()) {
            LOG.error("reading '{}' from sequence {} failed; the subscriber stalls until it re-subscribes", subject, from,
                ar.cause());
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
      } else if (from >= firstSequence) {
        long resume = fetched.isEmpty() ? from + 1 : fetched.get(0).sequence();
        LOG.error("subject '{}' has no message {} although it is retained; skipping to {}", subject, from, resume);
        consumer.nextSequence = resume;
      }
      if (fetched.isEmpty() || redelivering) {
        return;
      }
    }
    for (StoredMessage message : fetched) {
      boolean expected = redelivering ? message.sequence() == from : message.sequence() == consumer.nextSequence;
      if (!expected || message.sequence() > lastDurable) {
        return;
      }
      deliverNext(consumer, message.sequence(), new String(message.payload(), StandardCharsets.UTF_8));
      if (redelivering) {
        return;
      }
    }
  }

  // ---- housekeeping (called by the shard on the actor's context) ------------------------------

  /** Expires overdue deliveries and refills windows. */
  void tick(long nowMs) {
    int maxDeliver = env.config().maxDeliver();
    for (Consumer consumer : consumers.values()) {
      int dropped = consumer.expire(nowMs, maxDeliver);
      if (dropped > 0) {
        env.metrics().droppedAfterMaxDeliver.increment(dropped);
        LOG.debug("subject '{}': {} messages skipped for a subscriber after {} deliveries", subject, dropped, maxDeliver);
      }
      if (!consumer.redeliveries.isEmpty()) {
        pump(consumer);
      }
    }
  }

  /** True when nothing holds this actor in memory: no socket, no write in flight, idle long enough. */
  boolean hibernatable(long nowMs) {
    return phase == Phase.READY && attachedSessions == 0 && consumers.isEmpty() && inFlightCompletions == null
        && nextWrites.isEmpty() && nowMs - lastActivityMs >= env.config().idleTimeout().toMillis();
  }
}
