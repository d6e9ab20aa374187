package io.dstream.broker.stream;

import io.dstream.broker.archive.SubjectArchive;
import io.dstream.broker.retention.EffectiveLimits;
import io.dstream.broker.retention.RetentionRules;
import io.dstream.broker.store.StoreException;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.SubjectRecord;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

/**
 * The single owner of one subject: its lifecycle (loading, ready, destroying, hibernation) and the
 * public API every protocol view calls. The rules live in one class per concept, all owned here:
 * the {@link WritePipeline} (sequences, batches, rewind), the {@link DedupWindow}, the
 * {@link LogReader} (tail cache, fetched pages, store, bucket), the {@link Deliveries} (subscribers
 * and their ack windows), the {@link ReadWaiters} (long-polls) and the {@link ArchiveLink}.
 *
 * <p>Every write of every view is a {@link SubjectStep} run by {@link #call}: one append path, one
 * idempotency model ({@link SubjectTransaction}), one failure type ({@link StreamError}).
 *
 * <p>Threading: every public method may be called from any thread; the work runs on the actor's
 * {@link Context} (the event loop of the socket or request that created it, see {@link StreamShard}),
 * in call order (queued there even from that context, see {@link #run}). Callbacks run on that
 * context too. No
 * field is touched from anywhere else, so there are no locks, with one exception: the hold count,
 * an atomic that the shard increments when it hands the actor out and the actor sets to -1 (released)
 * when it hibernates, so a hold and a release can never both succeed. While the subject loads (and
 * while a destroy becomes durable) requests wait in order and run once it is ready ({@link RequestGate}).
 */
public final class StreamActor {

  private static final Logger LOG = LoggerFactory.getLogger(StreamActor.class);

  /** A producer version that is not checked ({@link SubjectTransaction#fence} not called). */
  public static final long NO_VERSION = -1;
  /** {@link #read} from the next message to be written (nothing that exists yet). */
  public static final long ONLY_NEW = 0;
  /** {@link #subscribe}: from the next message to be written. */
  public static final long SUBSCRIBE_NEW = Long.MAX_VALUE;
  /** {@link #subscribe}: from the last durable message (or the next one if there is none). */
  public static final long SUBSCRIBE_LAST = Long.MIN_VALUE;

  /** A step with its reply, for {@link #call(List)}. */
  public record Call<T>(SubjectStep<T> step, BiConsumer<T, Throwable> onDone) {
  }

  private final String subject;
  /** The {@link Ownership} term this actor runs under. */
  private final long term;
  private final Context context;
  private final StreamEnvironment env;
  private final WritePipeline pipeline;
  private final DedupWindow dedup;
  private final ArchiveLink archive;
  private final LogReader log;
  private final Deliveries deliveries;
  private final ReadWaiters waiters;
  private final StateWatchers watchers;
  private final RequestGate requests;
  /** Sockets and requests holding this actor; -1 once it released itself (see {@link #hold}). */
  private final AtomicInteger holds = new AtomicInteger();
  private long lastActivityMs;
  private final AcknowledgedRemoval removal;
  /** Pushes awaiting an ack as last added to the broker-wide gauge. */
  private volatile long reportedInFlight;
  /** The rule set {@link #limits} was computed from; a changed set (a new object) recomputes it. */
  private RetentionRules limitsFrom;
  private EffectiveLimits limits;

  /**
   * A new actor; {@code detached} is the subject's archive link if the shard kept one while the
   * subject hibernated with checkpoint work left, else {@code null}.
   */
  StreamActor(String subject, Context context, StreamEnvironment env, SubjectArchive detached, long term) {
    this.subject = subject;
    this.term = term;
    this.context = context;
    this.env = env;
    this.lastActivityMs = env.clock().millis();
    this.pipeline = new WritePipeline(subject, context, env);
    this.dedup = new DedupWindow(env.config().dedupWindow().toMillis(), env.config().dedupMaxEntries());
    this.archive = new ArchiveLink(subject, env, pipeline, detached, lastActivityMs, term);
    this.log = new LogReader(subject, env, pipeline, archive.archive());
    this.requests = new RequestGate(log);
    this.deliveries = new Deliveries(subject, context, env, pipeline, log, lastActivityMs);
    this.waiters = new ReadWaiters(subject, context, pipeline, log);
    this.watchers = new StateWatchers(subject, env.tap());
    this.removal = new AcknowledgedRemoval(subject);
    pipeline.listener(new WritePipeline.Listener() {
      @Override
      public void durable() {
        log.dropDeleted();
        tap();
        deliveries.pumpAll();
        waiters.durable();
      }

      @Override
      public void rewound() {
        log.forgetAfter(pipeline.lastDurable());
        dedup.forgetAfter(pipeline.lastDurable());
      }
    });
  }

  public String subject() {
    return subject;
  }

  Context context() {
    return context;
  }

  long term() {
    return term;
  }

  // ---- lifecycle ------------------------------------------------------------------------------

  /**
   * Loads the subject off the event loop; requests queue until it is there. If the load fails they
   * are refused and {@code onFailure} lets the shard forget this actor, so the next request tries again.
   */
  void load(Handler<Throwable> onFailure) {
    onContext(() -> loadHere(onFailure));
  }

  private void loadHere(Handler<Throwable> onFailure) {
    archive.adopt();
    new SubjectLoader(subject, context, env).load(archive.archive(), dedup).onComplete(ar -> {
      if (ar.failed()) {
        LOG.error("loading subject '{}' failed", subject, ar.cause());
        requests.refuse(new StoreException("subject '" + subject + "' could not be loaded: " + ar.cause().getMessage(),
            ar.cause()));
        onFailure.handle(ar.cause());
        return;
      }
      if (requests.refusing()) {
        return; // deposed while loading (cluster mode): it stays refused
      }
      SubjectRecord record = ar.result().record();
      ar.result().recentKeys().forEach(k -> dedup.remember(k.key(), k.sequence(), k.timestampMs()));
      pipeline.loaded(record);
      requests.open();
      requests.runWaiting();
    });
  }

  /** Hands the messages that became durable to the {@link DurableTap}, if it listened when they were appended. */
  private void tap() {
    List<Published> durable = log.takeTapped(pipeline.lastDurable());
    if (!durable.isEmpty()) {
      env.tap().durable(subject, durable);
    }
  }

  /**
   * Queues {@code task} on this actor's context, always (even from that context): one queue in call
   * order for every caller, so a call made while another runs, or while requests wait for the load,
   * can never overtake one made before it. On the caller's own event loop that costs a task, not a
   * thread crossing.
   */
  private void run(Runnable task, Consumer<Throwable> onFailure) {
    context.runOnContext(v -> runHere(task, onFailure));
  }

  /** Runs {@code task} on this actor's context: at once when already there, else posted in order. */
  private void onContext(Runnable task) {
    if (Vertx.currentContext() == context) {
      task.run();
    } else {
      context.runOnContext(v -> task.run());
    }
  }

  private void runHere(Runnable task, Consumer<Throwable> onFailure) {
    lastActivityMs = env.clock().millis();
    requests.run(task, onFailure);
  }

  private static <T> Consumer<Throwable> failing(BiConsumer<T, Throwable> onDone) {
    return failure -> onDone.accept(null, failure);
  }

  /**
   * One more hold (a socket, or a request until its reply); a held actor never hibernates. Any
   * thread. False when the actor already released itself: the caller must wait for the next one.
   */
  boolean hold() {
    while (true) {
      int current = holds.get();
      if (current < 0) {
        return false;
      }
      if (holds.compareAndSet(current, current + 1)) {
        return true;
      }
    }
  }

  private void unhold() {
    holds.decrementAndGet();
  }

  /** A socket held by {@link StreamRegistry#attach} is done without subscribing (its upgrade failed). */
  public void detach() {
    context.runOnContext(v -> {
      lastActivityMs = env.clock().millis();
      unhold();
    });
  }

  /** The socket closed: its subscription and pending deliveries go with it, then its hold. */
  public void detach(Subscriber subscriber) {
    context.runOnContext(v -> {
      deliveries.remove(subscriber);
      lastActivityMs = env.clock().millis();
      unhold();
    });
  }

  /**
   * Runs a request's {@code operation} here; the request's hold ends with its reply (see
   * {@link StreamRegistry#ask}).
   */
  <T> void ask(BiConsumer<StreamActor, BiConsumer<T, Throwable>> operation, BiConsumer<T, Throwable> reply) {
    BiConsumer<T, Throwable> released = (result, failure) -> {
      unhold();
      reply.accept(result, failure);
    };
    run(() -> {
      try {
        operation.accept(this, released);
      } catch (RuntimeException e) {
        released.accept(null, e);
      }
    }, failing(released));
  }

  /**
   * Expires overdue deliveries, refills windows, ticks the archive and reports the pushes awaiting
   * an ack; then, if nothing holds it and it idled long enough, releases itself and hands
   * {@code onReleased} its archive link if that still has work (else null). Called by the shard;
   * completes once it ran.
   */
  Future<Void> tick(long nowMs, BiConsumer<StreamActor, SubjectArchive> onReleased) {
    Promise<Void> ticked = Promise.promise();
    // Not through run(): a tick is no activity, and a loading actor has nothing to tick.
    onContext(() -> {
      try {
        if (requests.ready()) {
          archive.archive().tick(nowMs);
        }
        deliveries.tick(nowMs);
        if (requests.ready()) {
          removal.tick(deliveries.removableUpTo(), pipeline.firstSequence(),
              (step, done) -> transaction().run(step, done));
        }
        long inFlight = deliveries.inFlight();
        env.metrics().inFlight().addAndGet(inFlight - reportedInFlight);
        reportedInFlight = inFlight;
        if (hibernatable(nowMs) && holds.compareAndSet(0, -1)) {
          onReleased.accept(this, archive.detach());
        }
      } finally {
        // A stopping broker waits for its ticks: one that threw must not hold the stop.
        ticked.complete();
      }
    });
    return ticked.future();
  }

  /**
   * This broker may no longer run the subject (cluster mode: another node leads its partition now):
   * every request, queued or to come, is refused with {@code reason}, and subscribers are told to go.
   */
  void depose(StreamError reason) {
    onContext(() -> {
      requests.refuse(reason);
      deliveries.moved();
      forgetInFlight();
    });
  }

  /** Takes this actor's share out of the in-flight gauge (the shard stops). */
  void forgetInFlight() {
    env.metrics().inFlight().addAndGet(-reportedInFlight);
    reportedInFlight = 0;
  }

  /** True when nothing but holds keeps this actor in memory: no reader, no write in flight, idle long enough. */
  private boolean hibernatable(long nowMs) {
    return requests.ready() && deliveries.isEmpty() && waiters.isEmpty() && watchers.isEmpty() && pipeline.idle()
        && nowMs - lastActivityMs >= env.config().idleTimeout().toMillis();
  }

  // ---- writes ---------------------------------------------------------------------------------

  /** Runs {@code step} (see {@link SubjectStep}); {@code onDone} gets its result once its writes are durable. */
  public <T> void call(SubjectStep<T> step, BiConsumer<T, Throwable> onDone) {
    run(() -> transaction().run(step, onDone), failing(onDone));
  }

  /**
   * Runs several steps in one task, in order (a socket's publishes of one event-loop turn): one hop
   * to the actor instead of one per step, and their writes share a batch.
   */
  public void call(List<Call<?>> calls) {
    run(() -> calls.forEach(this::runCall), failure -> calls.forEach(c -> c.onDone().accept(null, failure)));
  }

  private <T> void runCall(Call<T> call) {
    transaction().run(call.step(), call.onDone());
  }

  private Transaction transaction() {
    return new Transaction(subject, limits(), pipeline, dedup, log, env.metrics(), watchers);
  }

  /**
   * The subject's retention limits, matched again only when the rule set changed (an identity
   * check per step), so a changed rule applies from the next write on.
   */
  private EffectiveLimits limits() {
    RetentionRules rules = env.retention().current();
    if (rules != limitsFrom) {
      limits = rules.effective(subject);
      limitsFrom = rules;
    }
    return limits;
  }

  /**
   * Destroys the subject: log, state and producer version. Requests arriving meanwhile wait; once
   * the removal is durable, subscribers and state watchers are told ({@link Subscriber#subjectDestroyed},
   * {@link StateWatcher#stateDestroyed}) and dropped, long-polls answer empty, and the subject starts
   * again at sequence 1 and state revision 0.
   */
  public void destroy(BiConsumer<Long, Throwable> onDone) {
    run(() -> {
      requests.destroying();
      pipeline.queue(List.of(new StoreWrite.Destroy()), new WritePipeline.Completion() {
        @Override
        public void succeeded() {
          archive.archive().destroyed();
          pipeline.destroyed();
          removal.reset();
          log.clear();
          dedup.clear();
          deliveries.destroyed();
          waiters.destroyed();
          watchers.destroyed();
          requests.open();
          onDone.accept(0L, null);
          requests.runWaiting();
        }

        @Override
        public void failed(Throwable failure) {
          requests.open();
          onDone.accept(null, failure);
          requests.runWaiting();
        }
      });
    }, failing(onDone));
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Current numbers, durable writes only. */
  public void info(BiConsumer<StreamInfo, Throwable> onInfo) {
    run(() -> onInfo.accept(new StreamInfo(pipeline.firstSequence(), pipeline.lastDurable(), pipeline.messages(),
        pipeline.bytes(), deliveries.subscribers()), null), failing(onInfo));
  }

  /**
   * Its consumers as operators see them, on this actor's context, without waiting for a load (a
   * loading actor has no consumers yet) and without counting as activity.
   */
  void consumerViews(Consumer<List<ConsumerView>> onViews) {
    onContext(() -> onViews.accept(deliveries.views()));
  }

  /** The state object (UTF-8 JSON) with its revision and the last durable sequence. */
  public void getState(BiConsumer<StateSnapshot, Throwable> onState) {
    run(() -> onState.accept(stateSnapshot(), null), failing(onState));
  }

  private StateSnapshot stateSnapshot() {
    return new StateSnapshot(pipeline.state(), pipeline.stateRevision(), pipeline.lastDurable());
  }

  /**
   * Starts telling {@code watcher} of every durable state change ({@link StateWatcher#state}), after
   * {@code onWatching} got the state as it is now: no change is missed or told twice at the hand-over.
   * Watching again changes nothing. The watcher's socket holds the actor meanwhile.
   */
  public void watchState(StateWatcher watcher, BiConsumer<StateSnapshot, Throwable> onWatching) {
    run(() -> {
      watchers.add(watcher);
      onWatching.accept(stateSnapshot(), null);
    }, failing(onWatching));
  }

  /** Stops telling {@code watcher} of state changes; {@code onDone} gets the last durable sequence. */
  public void unwatchState(StateWatcher watcher, BiConsumer<Long, Throwable> onDone) {
    run(() -> {
      watchers.remove(watcher);
      onDone.accept(pipeline.lastDurable(), null);
    }, failing(onDone));
  }

  /** The subject as readers may see it (durable writes only). */
  public void snapshot(BiConsumer<ViewSnapshot, Throwable> onSnapshot) {
    run(() -> onSnapshot.accept(new ViewSnapshot(pipeline.subjectId(), pipeline.firstSequence(), pipeline.lastDurable(),
        pipeline.attributes(), pipeline.durableVersion()), null), failing(onSnapshot));
  }

  /**
   * Answers true at the next durable write after the snapshot of {@code version} (at once if there
   * was one already), false after {@code timeoutMs}. Fails with {@link StreamError.Kind#OVERLOADED}
   * when too many readers wait on this subject.
   */
  public void awaitChange(long version, long timeoutMs, BiConsumer<Boolean, Throwable> onChange) {
    run(() -> waiters.awaitChange(version, timeoutMs, onChange), failing(onChange));
  }

  /**
   * Reads up to {@code limit} durable messages from {@code fromSequence} on ({@link #ONLY_NEW}: from
   * the next one written). If there are none yet and {@code waitMs > 0}, waits until one is durable
   * (answering at once then) or until {@code waitMs} passed (answering an empty list).
   */
  public void read(long fromSequence, int limit, long waitMs, BiConsumer<List<Published>, Throwable> onRead) {
    run(() -> {
      long from = fromSequence == ONLY_NEW ? pipeline.lastDurable() + 1 : Math.max(fromSequence, pipeline.firstSequence());
      if (from <= pipeline.lastDurable() || waitMs <= 0) {
        log.readDurable(from, limit, LogReader.PAGE_BYTES, onRead);
      } else {
        waiters.park(from, limit, waitMs, onRead);
      }
    }, failing(onRead));
  }

  /**
   * Reads up to {@code maxMessages} durable messages from {@code fromSequence} (at least the first
   * retained), about {@code maxBytes} of them at most but always the first: from memory, the local
   * store or the bucket, whichever holds them. Never waits.
   */
  public void readPage(long fromSequence, int maxMessages, long maxBytes, BiConsumer<List<Published>, Throwable> onRead) {
    run(() -> log.readDurable(Math.max(fromSequence, pipeline.firstSequence()), maxMessages, maxBytes, onRead),
        failing(onRead));
  }

  /**
   * Answers the read parked with {@code onRead} at once, with no records (its client went away),
   * so it stops holding a waiter slot until its timeout. Does nothing if it is not parked.
   */
  public void cancelRead(BiConsumer<List<Published>, Throwable> onRead) {
    // Through run(), so a cancel that arrives while the actor loads comes after the read it cancels.
    run(() -> waiters.cancel(onRead), failure -> { });
  }

  /**
   * The sequence to read from to get the messages published at or after {@code timestampMs} (see
   * {@link LogReader#firstSequenceAt}).
   */
  public void firstSequenceAt(long timestampMs, BiConsumer<Long, Throwable> onSequence) {
    run(() -> log.firstSequenceAt(timestampMs).onComplete(ar -> onSequence.accept(ar.result(), ar.cause())),
        failing(onSequence));
  }

  // ---- subscriptions --------------------------------------------------------------------------

  /**
   * Subscribes (or re-subscribes, replacing the previous subscription and its pending deliveries)
   * from {@code startSequence}; values {@code <= 0} mean the first retained message.
   * {@code onSubscribed} gets the last durable sequence and runs before the first push.
   */
  public void subscribe(Subscriber subscriber, long startSequence, BiConsumer<Long, Throwable> onSubscribed) {
    subscribe(subscriber, startSequence, List.of(), onSubscribed);
  }

  /**
   * Subscribes as {@link #subscribe} does ({@link #SUBSCRIBE_NEW} and {@link #SUBSCRIBE_LAST} too),
   * and sends {@code unacknowledged} (sequence and delivery count pairs a durable consumer had sent
   * and not had acknowledged, see {@link ConsumerState}) again first.
   */
  public void subscribe(Subscriber subscriber, long startSequence, List<long[]> unacknowledged,
                        BiConsumer<Long, Throwable> onSubscribed) {
    run(() -> {
      long start = startSequence == SUBSCRIBE_NEW ? pipeline.lastDurable() + 1
          : startSequence == SUBSCRIBE_LAST ? Math.max(1, pipeline.lastDurable()) : startSequence;
      deliveries.subscribe(subscriber, start, unacknowledged);
      onSubscribed.accept(pipeline.lastDurable(), null);
      deliveries.start(subscriber);
    }, failing(onSubscribed));
  }

  /**
   * Subscribes from the first message published at or after {@code timestampMs} (epoch ms); if
   * there is none yet, from the next one published.
   */
  public void subscribeFromTime(Subscriber subscriber, long timestampMs, BiConsumer<Long, Throwable> onSubscribed) {
    firstSequenceAt(timestampMs, (sequence, failure) -> {
      if (failure != null) {
        onSubscribed.accept(null, failure);
      } else {
        subscribe(subscriber, sequence, onSubscribed);
      }
    });
  }

  /** Stops pushing to {@code subscriber}; its pending deliveries are dropped. */
  public void unsubscribe(Subscriber subscriber, BiConsumer<Long, Throwable> onDone) {
    run(() -> {
      deliveries.remove(subscriber);
      onDone.accept(pipeline.lastDurable(), null);
    }, failing(onDone));
  }

  /** The subscriber's connection, which refused a push ({@link Subscriber#mayPush}), can take more again. */
  public void resume(Subscriber subscriber) {
    run(() -> deliveries.start(subscriber), failure -> { });
  }

  /**
   * Acknowledges deliveries in order, with one hop to the actor's context (a socket's acks of one
   * event-loop turn); then refills the window once, so the pushes that follow leave in one batch.
   */
  public void ack(Subscriber subscriber, long[] deliveryIds) {
    run(() -> deliveries.ack(subscriber, deliveryIds), failure -> { });
  }

  /** A negative ack: the delivery is sent again after {@code delayMs} (at once for 0). */
  public void nak(Subscriber subscriber, long deliveryId, long delayMs) {
    run(() -> deliveries.nak(subscriber, deliveryId, Math.max(0, delayMs)), failure -> { });
  }

  /** Work in progress: the delivery's ack wait starts again. */
  public void progress(Subscriber subscriber, long deliveryId) {
    run(() -> deliveries.progress(subscriber, deliveryId), failure -> { });
  }

  /** The delivery is dropped and never sent again. */
  public void terminate(Subscriber subscriber, long deliveryId) {
    run(() -> deliveries.terminate(subscriber, deliveryId), failure -> { });
  }

  /** Runs {@code task} on this actor's context, in call order with every other call (a protocol view's own step). */
  public void execute(Runnable task) {
    run(task, failure -> { });
  }

  /**
   * Lets go of {@code subscriber} if it has nothing to wait for (see
   * {@link Deliveries#releaseIfSettled}): it is unsubscribed and its hold ends, as with
   * {@link #detach(Subscriber)}, and {@code onDone} gets its next sequence, on this context and in
   * the same task, so nothing can reach the subject in between. Otherwise {@code onDone} gets -1
   * and it stays. A follower of many subjects uses it to let caught-up subjects hibernate.
   */
  public void releaseIfSettled(Subscriber subscriber, LongConsumer onDone) {
    context.runOnContext(v -> {
      long next = requests.ready() ? deliveries.releaseIfSettled(subscriber) : -1;
      if (next >= 0) {
        lastActivityMs = env.clock().millis();
        unhold();
      }
      onDone.accept(next);
    });
  }

  /** Where {@code subscriber} is (null when not subscribed), for a durable consumer's saved state. */
  public void consumerState(Subscriber subscriber, BiConsumer<ConsumerState, Throwable> onState) {
    run(() -> onState.accept(deliveries.state(subscriber), null), failing(onState));
  }
}
