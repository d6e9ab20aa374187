package io.dstream.broker.stream;

import io.dstream.broker.store.StoreException;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.WriteBatch;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
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
  /** Readers one subject lets wait for its next write (long-poll and SSE requests). */
  private static final int MAX_CHANGE_WAITERS = 10_000;

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
  private byte[] attributes;
  /** Attributes of a queued or in-flight write, newer than {@link #attributes}; null when none. */
  private byte[] queuedAttributes;
  private int queuedAttributeWrites;
  private int inFlightAttributeWrites;
  /** Counts durable writes, so a reader can tell whether anything changed since its snapshot. */
  private long durableVersion;
  private final ChangeWaiters changeWaiters = new ChangeWaiters(MAX_CHANGE_WAITERS);

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
    attributes = record.attributes();
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
    if (inFlightCompletions != null) {
      return;
    }
    if (nextWrites.isEmpty()) {
      // Replies of view steps that wrote nothing, queued behind writes that are now durable.
      List<Completion> ready = nextCompletions;
      nextCompletions = new ArrayList<>();
      ready.forEach(Completion::succeeded);
      return;
    }
    List<StoreWrite> writes = nextWrites;
    inFlightCompletions = nextCompletions;
    inFlightLastSequence = lastAssigned;
    inFlightAttributeWrites = queuedAttributeWrites;
    queuedAttributeWrites = 0;
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
    durableVersion++;
    if (inFlightAttributeWrites > 0 && queuedAttributeWrites == 0) {
      queuedAttributes = null;
    }
    inFlightAttributeWrites = 0;
    cache.dropUpTo(firstSequence - 1);
    for (Completion completion : completions) {
      completion.succeeded();
    }
    consumers.values().forEach(this::pump);
    changeWaiters.wakeAll().forEach(timer -> context.owner().cancelTimer(timer));
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
    queuedAttributes = null;
    queuedAttributeWrites = 0;
    inFlightAttributeWrites = 0;
    cache.truncateAfter(lastDurable);
    completions.forEach(c -> c.failed(failure));
    later.forEach(c -> c.failed(failure));
  }

  // ---- protocol views (Durable Streams) -------------------------------------------------------

  /**
   * Runs {@code step} on this actor; its result reaches {@code onDone} once the step's writes (and
   * all writes queued before them) are durable. A step that throws writes nothing and fails.
   */
  public <T> void transact(ViewStep<T> step, BiConsumer<T, Throwable> onDone) {
    run(() -> {
      ViewWrites writes = new ViewWrites();
      T result;
      try {
        result = step.apply(writes);
      } catch (RuntimeException e) {
        onDone.accept(null, e);
        return;
      }
      writes.enqueueAll(result, onDone);
    }, failing(onDone));
  }

  /** The subject as readers see it (durable writes only). */
  public void snapshot(BiConsumer<ViewSnapshot, Throwable> onSnapshot) {
    run(() -> onSnapshot.accept(new ViewSnapshot(subjectId, firstSequence, lastDurable, attributes, durableVersion), null),
        failing(onSnapshot));
  }

  /**
   * Completes with true on {@code caller} at the next durable write after the snapshot of
   * {@code version} (at once if there was one already), with false after {@code timeoutMs}. Fails
   * with {@link OverloadedException} when too many readers wait on this subject.
   */
  public Future<Boolean> awaitChange(long version, long timeoutMs, Context caller) {
    Promise<Boolean> promise = Promise.promise();
    run(() -> {
      if (durableVersion != version) {
        caller.runOnContext(v -> promise.complete(true));
        return;
      }
      long[] waiterId = {-1};
      long timer = context.owner().setTimer(timeoutMs, t -> {
        if (changeWaiters.remove(waiterId[0])) {
          caller.runOnContext(v -> promise.complete(false));
        }
      });
      waiterId[0] = changeWaiters.add(() -> caller.runOnContext(v -> promise.complete(true)), timer);
      if (waiterId[0] < 0) {
        context.owner().cancelTimer(timer);
        caller.runOnContext(v -> promise.fail(new OverloadedException("too many readers wait on '" + subject + "'")));
      }
    }, failure -> caller.runOnContext(v -> promise.fail(failure)));
    return promise.future();
  }

  /** The writes of one {@link ViewStep}, applied to the actor's numbers as they are queued. */
  private final class ViewWrites implements ViewTransaction {
    private final List<StoreWrite> writes = new ArrayList<>();

    @Override
    public long lastSequence() {
      return lastAssigned;
    }

    @Override
    public byte[] attributes() {
      return queuedAttributes != null ? queuedAttributes : attributes;
    }

    @Override
    public long append(byte[] payload) {
      long sequence = ++lastAssigned;
      writes.add(new StoreWrite.Append(sequence, env.clock().millis(), payload));
      return sequence;
    }

    @Override
    public void putAttributes(byte[] newAttributes) {
      queuedAttributes = newAttributes;
      queuedAttributeWrites++;
      writes.add(new StoreWrite.PutAttributes(newAttributes));
    }

    @Override
    public void deleteAll() {
      writes.add(new StoreWrite.DeleteUpTo(lastAssigned));
    }

    <T> void enqueueAll(T result, BiConsumer<T, Throwable> onDone) {
      nextWrites.addAll(writes);
      nextCompletions.add(new Completion() {
        @Override
        public void succeeded() {
          onDone.accept(result, null);
        }

        @Override
        public void failed(Throwable failure) {
          onDone.accept(null, failure);
        }
      });
      flushWrites();
    }
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
    run(() -> {
      Consumer consumer = consumers.get(subscriber);
      if (consumer == null || consumer.pending.remove(deliveryId) == null) {
        env.metrics().unknownAcks.increment();
        subscriber.unknownAck(deliveryId);
        return;
      }
      pump(consumer);
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
        && nextWrites.isEmpty() && nextCompletions.isEmpty() && changeWaiters.isEmpty()
        && nowMs - lastActivityMs >= env.config().idleTimeout().toMillis();
  }
}
