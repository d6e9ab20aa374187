package io.dstream.broker.stream;

import io.dstream.broker.archive.Manifest;
import io.dstream.broker.archive.SubjectArchive;
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
import java.util.ArrayDeque;
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
 *
 * <p>Archive: a {@link SubjectArchive} checkpoints the subject to the bucket from the shard's tick,
 * restores it at load when the local store is empty, and serves replays of messages that left the
 * local store (the hot window, docs/storage.md). {@code firstSequence} is where the log starts, not
 * where the local store starts.
 *
 * <p>Publish times are non-decreasing per subject (a clock that steps back repeats the last
 * time), so a point in time maps to a sequence by binary search ({@link #firstSequenceAt}).
 *
 * <p>Records API: {@link #publishAll} appends several messages in one write batch, after checking
 * the producer version (fencing token) against the version assigned so far, durable or not, in the
 * same step; {@link #read} answers reads and parks long-polls, which wake when a write becomes
 * durable; {@link #destroy} removes the subject, deferring every later request until it is durable.
 */
public final class StreamActor {

  private static final Logger LOG = LoggerFactory.getLogger(StreamActor.class);
  private static final int FETCH_PAGE = 256;
  private static final long FETCH_MAX_BYTES = 4L * 1024 * 1024;
  /** Pages read from the log kept for the subscribers behind the tail cache (see {@link FetchedPages}). */
  private static final int FETCHED_PAGES = 8;
  /** A replay whose read failed (the bucket unreachable) tries again after this. */
  private static final long FETCH_RETRY_MS = 1_000;
  /** Readers one subject lets wait for its next write (long-poll and SSE requests). */
  private static final int MAX_CHANGE_WAITERS = 10_000;

  /** {@link #publishAll} without a producer version: not checked, not changed. */
  public static final long NO_VERSION = -1;
  /** {@link #read} from the next message to be written (nothing that exists yet). */
  public static final long ONLY_NEW = 0;

  private enum Phase { LOADING, READY, DESTROYING, FAILED }

  /** A request waiting for the load, with the way to refuse it if the load fails. */
  private record Deferred(Runnable task, java.util.function.Consumer<Throwable> onFailure) {
  }

  /** A long-poll read waiting for {@code fromSequence} to become durable, until its timer fires. */
  private static final class Waiter {
    final long fromSequence;
    final int limit;
    final BiConsumer<List<Published>, Throwable> onRead;
    long timerId;

    Waiter(long fromSequence, int limit, BiConsumer<List<Published>, Throwable> onRead) {
      this.fromSequence = fromSequence;
      this.limit = limit;
      this.onRead = onRead;
    }
  }

  /** What {@link #load} reads off the event loop: the record and the dedup window's tail. */
  private record Loaded(SubjectRecord record, List<PublishedKey> recentKeys) {
  }

  /** A stored publish's dedup key. */
  private record PublishedKey(String key, long sequence, long timestampMs) {
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
  private final FetchedPages fetchedPages = new FetchedPages(FETCHED_PAGES, 2 * FETCH_MAX_BYTES);
  private final DedupWindow dedup;
  private final SubjectArchive archive;
  private final Map<Subscriber, Consumer> consumers = new LinkedHashMap<>();
  private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();
  private final List<Waiter> waiters = new ArrayList<>();
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
  private long producerVersion;
  private long durableProducerVersion;
  private long lastTimestampMs;

  private List<StoreWrite> nextWrites = new ArrayList<>();
  private List<Completion> nextCompletions = new ArrayList<>();
  private List<Completion> inFlightCompletions;
  private long inFlightLastSequence;

  private int attachedSessions;
  private long lastActivityMs;
  private long nextDeliveryId;

  /**
   * A new actor; {@code detached} is the subject's archive link if the shard kept one while the
   * subject hibernated with checkpoint work left, else {@code null}.
   */
  StreamActor(String subject, Context context, StreamEnvironment env, SubjectArchive detached) {
    this.subject = subject;
    this.context = context;
    this.env = env;
    this.cache = new MessageCache(env.config().actorCacheMessages(), env.config().actorCacheBytes());
    this.dedup = new DedupWindow(env.config().dedupWindow().toMillis(), env.config().dedupMaxEntries());
    this.lastActivityMs = env.clock().millis();
    if (detached != null) {
      detached.host(new ArchiveHost());
      this.archive = detached;
    } else {
      this.archive = new SubjectArchive(subject, env.archive(), new ArchiveHost(), lastActivityMs);
    }
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
    long nowMs = env.clock().millis();
    env.readers().executeBlocking(() -> existingRecord(), false)
        .compose(record -> archive.open(record.lastSequence(), record.state())
            .compose(manifest -> manifest == null ? Future.succeededFuture(record) : restore(manifest)))
        .compose(record -> env.readers().executeBlocking(() -> new Loaded(record, recentKeys(record, nowMs)), false))
        .onComplete(ar -> {
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
      SubjectRecord record = ar.result().record();
      ar.result().recentKeys().forEach(k -> dedup.remember(k.key(), k.sequence(), k.timestampMs()));
      lastAssigned = record.lastSequence();
      lastDurable = record.lastSequence();
      adopt(record);
      producerVersion = durableProducerVersion;
      lastTimestampMs = record.lastTimestampMs();
      phase = Phase.READY;
      runDeferred();
    });
  }

  /**
   * The subject's committed record, or an absent one (id 0) that the first write replaces: reads
   * never create a subject, only writes do, so readers cannot grow the store.
   */
  private SubjectRecord existingRecord() {
    SubjectRecord record = env.store().find(subject);
    return record == null ? SubjectRecord.absent() : record;
  }

  /**
   * The keys of the publishes still inside the dedup window, read from the local store (found by
   * time, at most {@code dedupMaxEntries}, page by page so large messages never pile up). Messages
   * only in the bucket are older than the hot window and, in practice, than the dedup window.
   */
  private List<PublishedKey> recentKeys(SubjectRecord record, long nowMs) {
    List<PublishedKey> keys = new ArrayList<>();
    long last = record.lastSequence();
    long recent = record.firstSequence() > last ? 0 : env.store().firstSequenceAtOrAfter(record.id(), dedup.horizon(nowMs));
    if (recent == 0) {
      return keys;
    }
    long from = Math.max(recent, last - dedup.maxEntries() + 1);
    while (from <= last) {
      List<StoredMessage> page = env.store().read(record.id(), from, FETCH_PAGE, FETCH_MAX_BYTES);
      if (page.isEmpty()) {
        break;
      }
      for (StoredMessage message : page) {
        String key = message.sequence() <= last ? PublishKey.ofStored(message.payload()) : null;
        if (key != null) {
          keys.add(new PublishedKey(key, message.sequence(), message.timestampMs()));
        }
      }
      from = page.get(page.size() - 1).sequence() + 1;
    }
    return keys;
  }

  /** Rebuilds the empty local subject from its manifest; its messages stay in the bucket. */
  private Future<SubjectRecord> restore(Manifest manifest) {
    Promise<SubjectRecord> restored = Promise.promise();
    Map<String, byte[]> views = new LinkedHashMap<>();
    views.put(SubjectRecord.RECORDS_VIEW, SubjectRecord.longView(manifest.producerVersion()));
    views.put(SubjectRecord.DURABLE_STREAMS_VIEW, manifest.attributes());
    views.values().removeIf(data -> data.length == 0);
    StoreWrite write = new StoreWrite.Restore(manifest.firstSequence(), manifest.lastSequence(),
        manifest.lastTimestamp(), manifest.state().getBytes(StandardCharsets.UTF_8), views);
    WriteBatch batch = new WriteBatch(subject, List.of(write), context, (record, failure) -> {
      if (failure != null) {
        restored.fail(failure);
        return;
      }
      LOG.info("subject '{}' restored from the bucket: sequences {}..{}", subject, record.firstSequence(),
          record.lastSequence());
      restored.complete(record);
    });
    if (!env.writer().submit(batch)) {
      restored.fail(new OverloadedException("broker overloaded: the write queue is full, retry later"));
    }
    return restored.future();
  }

  /** Runs the requests that waited, in order, until one of them starts a new wait (a destroy). */
  private void runDeferred() {
    while (phase == Phase.READY && !deferred.isEmpty()) {
      deferred.poll().task().run();
    }
  }

  private void adopt(SubjectRecord record) {
    subjectId = record.id();
    durableProducerVersion = SubjectRecord.longValue(record.view(SubjectRecord.RECORDS_VIEW));
    firstSequence = record.firstSequence();
    messages = record.messages();
    bytes = record.bytes();
    state = record.state();
    attributes = record.view(SubjectRecord.DURABLE_STREAMS_VIEW);
  }

  private void run(Runnable task, java.util.function.Consumer<Throwable> onFailure) {
    context.runOnContext(v -> {
      lastActivityMs = env.clock().millis();
      switch (phase) {
        case LOADING:
        case DESTROYING:
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

  /**
   * A user attached by {@link StreamRegistry#attach} without subscribing is done: a socket whose
   * upgrade failed, or an HTTP request that was answered.
   */
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
    publish(template, null, onDone);
  }

  /**
   * Publishes a message at most once per {@code dedupKey} (see {@link PublishKey}) within the dedup
   * window: a repeat gets the original's sequence, flagged {@link Published#duplicate()}, once the
   * original is durable, and nothing is stored. A null key publishes unconditionally.
   */
  public void publish(MessageTemplate template, String dedupKey, BiConsumer<Published, Throwable> onDone) {
    run(() -> {
      DedupWindow.Entry original = dedupKey == null ? null : dedup.find(dedupKey, env.clock().millis());
      if (original != null) {
        replyDuplicate(template, original, onDone);
        return;
      }
      long sequence = lastAssigned + 1;
      String json;
      try {
        json = template.render(sequence);
      } catch (RuntimeException e) {
        onDone.accept(null, e);
        return;
      }
      lastAssigned = sequence;
      long timestamp = nextTimestamp();
      if (dedupKey != null) {
        dedup.remember(dedupKey, sequence, timestamp);
      }
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

  /**
   * Publishes {@code templates} in order as one unit: one write batch, so they commit together or
   * not at all and nothing interleaves. With a {@code version} (not {@link #NO_VERSION}) the
   * producer version is checked first, in the same step: lower than the one assigned so far fails
   * with {@link ProducerFencedException}; higher is stored with the messages. No messages and a
   * version only sets the version. {@code onDone} runs once everything is durable.
   */
  public void publishAll(List<MessageTemplate> templates, long version, BiConsumer<Appended, Throwable> onDone) {
    run(() -> {
      if (version != NO_VERSION && version < producerVersion) {
        env.metrics().fencedWrites.increment();
        onDone.accept(null, new ProducerFencedException(producerVersion, version));
        return;
      }
      List<String> rendered = new ArrayList<>(templates.size());
      try {
        for (int i = 0; i < templates.size(); i++) {
          rendered.add(templates.get(i).render(lastAssigned + 1 + i));
        }
      } catch (RuntimeException e) {
        onDone.accept(null, e);
        return;
      }
      List<StoreWrite> writes = new ArrayList<>(rendered.size() + 1);
      if (version > producerVersion || (version != NO_VERSION && rendered.isEmpty())) {
        producerVersion = Math.max(producerVersion, version);
        writes.add(new StoreWrite.PutView(SubjectRecord.RECORDS_VIEW, SubjectRecord.longView(producerVersion)));
      }
      List<Published> published = new ArrayList<>(rendered.size());
      for (String json : rendered) {
        long sequence = ++lastAssigned;
        long timestamp = nextTimestamp();
        byte[] payload = json.getBytes(StandardCharsets.UTF_8);
        cache.add(new CachedMessage(sequence, timestamp, json, payload.length));
        published.add(new Published(sequence, timestamp, json));
        writes.add(new StoreWrite.Append(sequence, timestamp, payload));
      }
      Appended appended = new Appended(published, producerVersion);
      if (writes.isEmpty()) {
        onDone.accept(appended, null);
        return;
      }
      enqueue(writes, new Completion() {
        @Override
        public void succeeded() {
          env.metrics().published.increment(published.size());
          onDone.accept(appended, null);
        }

        @Override
        public void failed(Throwable failure) {
          env.metrics().publishFailed.increment(published.size());
          onDone.accept(null, failure);
        }
      });
    }, failing(onDone));
  }

  /** Answers a repeated publish with its original's sequence, waiting for the original's commit if needed. */
  private void replyDuplicate(MessageTemplate template, DedupWindow.Entry original,
                              BiConsumer<Published, Throwable> onDone) {
    env.metrics().publishDuplicates.increment();
    Completion completion = new Completion() {
      @Override
      public void succeeded() {
        String json;
        try {
          json = template.render(original.sequence());
        } catch (RuntimeException e) {
          onDone.accept(null, e);
          return;
        }
        onDone.accept(new Published(original.sequence(), original.timestampMs(), json, true), null);
      }

      @Override
      public void failed(Throwable failure) {
        onDone.accept(null, failure);
      }
    };
    if (original.sequence() <= lastDurable) {
      completion.succeeded();
    } else if (inFlightCompletions != null && original.sequence() <= inFlightLastSequence) {
      inFlightCompletions.add(completion);
    } else {
      nextCompletions.add(completion);
    }
  }

  /** The publish time of the next message: now, or the previous one's if the clock stepped back. */
  private long nextTimestamp() {
    lastTimestampMs = Math.max(lastTimestampMs, env.clock().millis());
    return lastTimestampMs;
  }

  /**
   * Destroys the subject: log, state and producer version. Requests arriving meanwhile wait; once
   * the removal is durable, subscribers are told ({@link Subscriber#subjectDestroyed}) and dropped,
   * long-polls answer empty, and the subject starts again at sequence 1.
   */
  public void destroy(BiConsumer<Long, Throwable> onDone) {
    run(() -> {
      phase = Phase.DESTROYING;
      enqueue(new StoreWrite.Destroy(), new Completion() {
        @Override
        public void succeeded() {
          forgetDestroyed();
          phase = Phase.READY;
          onDone.accept(0L, null);
          runDeferred();
        }

        @Override
        public void failed(Throwable failure) {
          phase = Phase.READY;
          onDone.accept(null, failure);
          runDeferred();
        }
      });
    }, failing(onDone));
  }

  /** Called once the destroy is durable; it was the last write of its batch (later requests waited). */
  private void forgetDestroyed() {
    archive.destroyed();
    lastAssigned = 0;
    lastDurable = 0;
    producerVersion = 0;
    lastTimestampMs = 0;
    cache.truncateAfter(0);
    fetchedPages.clear();
    dedup.clear();
    List<Subscriber> subscribers = new ArrayList<>(consumers.keySet());
    consumers.clear();
    subscribers.forEach(Subscriber::subjectDestroyed);
    List<Waiter> parked = new ArrayList<>(waiters);
    waiters.clear();
    for (Waiter waiter : parked) {
      context.owner().cancelTimer(waiter.timerId);
      waiter.onRead.accept(List.of(), null);
    }
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
    enqueue(List.of(write), completion);
  }

  /** Queues {@code writes} together: they go to the writer in the same batch. */
  private void enqueue(List<StoreWrite> writes, Completion completion) {
    nextWrites.addAll(writes);
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
    fetchedPages.dropBelow(firstSequence);
    for (Completion completion : completions) {
      completion.succeeded();
    }
    consumers.values().forEach(this::pump);
    changeWaiters.wakeAll().forEach(timer -> context.owner().cancelTimer(timer));
    wakeWaiters();
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
    producerVersion = durableProducerVersion;
    cache.truncateAfter(lastDurable);
    dedup.forgetAfter(lastDurable);
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
      writes.add(new StoreWrite.Append(sequence, nextTimestamp(), payload));
      return sequence;
    }

    @Override
    public void putAttributes(byte[] newAttributes) {
      queuedAttributes = newAttributes;
      queuedAttributeWrites++;
      writes.add(new StoreWrite.PutView(SubjectRecord.DURABLE_STREAMS_VIEW, newAttributes));
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

  /**
   * Its consumers as operators see them. Called by the shard on this actor's context (the shard's),
   * so it reads the fields directly and never waits for a load: a loading actor has no consumers yet.
   */
  List<ConsumerView> consumerViews() {
    int window = env.config().maxInFlight();
    List<ConsumerView> views = new ArrayList<>(consumers.size());
    for (Consumer consumer : consumers.values()) {
      views.add(new ConsumerView(consumer.subscriber.description(), consumer.nextSequence, consumer.pending.size(),
          window, Math.max(0, lastDurable - consumer.nextSequence + 1), consumer.redeliveries.size(),
          consumer.redelivered));
    }
    return views;
  }

  /** The state object (UTF-8 JSON) with the last durable sequence. */
  public void getState(BiConsumer<StateSnapshot, Throwable> onState) {
    run(() -> onState.accept(new StateSnapshot(state, lastDurable), null), failing(onState));
  }

  /**
   * Reads up to {@code limit} durable messages from {@code fromSequence} on ({@link #ONLY_NEW}: from
   * the next one written). If there are none yet and {@code waitMs > 0}, waits until one is durable
   * (answering at once then) or until {@code waitMs} passed (answering an empty list).
   */
  public void read(long fromSequence, int limit, long waitMs, BiConsumer<List<Published>, Throwable> onRead) {
    run(() -> {
      long from = fromSequence == ONLY_NEW ? lastDurable + 1 : Math.max(fromSequence, firstSequence);
      if (from <= lastDurable || waitMs <= 0) {
        readDurable(from, limit, onRead);
        return;
      }
      Waiter waiter = new Waiter(from, limit, onRead);
      waiter.timerId = context.owner().setTimer(waitMs, id -> {
        if (waiters.remove(waiter)) {
          onRead.accept(List.of(), null);
        }
      });
      waiters.add(waiter);
    }, failing(onRead));
  }

  /**
   * Answers the read parked with {@code onRead} at once, with no records (its client went away),
   * so it stops holding a waiter slot until its timeout. Does nothing if it is not parked.
   */
  public void cancelRead(BiConsumer<List<Published>, Throwable> onRead) {
    // Through run(), so a cancel that arrives while the actor loads comes after the read it cancels.
    run(() -> {
      for (Waiter waiter : waiters) {
        if (waiter.onRead == onRead) {
          waiters.remove(waiter);
          context.owner().cancelTimer(waiter.timerId);
          onRead.accept(List.of(), null);
          return;
        }
      }
    }, failure -> { });
  }

  /** Answers the long-polls whose first sequence became durable. */
  private void wakeWaiters() {
    if (waiters.isEmpty()) {
      return;
    }
    List<Waiter> ready = new ArrayList<>();
    waiters.removeIf(waiter -> waiter.fromSequence <= lastDurable && ready.add(waiter));
    for (Waiter waiter : ready) {
      context.owner().cancelTimer(waiter.timerId);
      readDurable(waiter.fromSequence, waiter.limit, waiter.onRead);
    }
  }

  /** Messages {@code from..min(lastDurable, from + limit - 1)}: from the tail cache, else from the store. */
  private void readDurable(long from, int limit, BiConsumer<List<Published>, Throwable> onRead) {
    long upTo = Math.min(lastDurable, from + limit - 1);
    if (from > upTo) {
      onRead.accept(List.of(), null);
      return;
    }
    List<Published> cached = new ArrayList<>();
    long cachedBytes = 0;
    for (long sequence = from; sequence <= upTo && cachedBytes < FETCH_MAX_BYTES; sequence++) {
      CachedMessage message = cache.get(sequence);
      if (message == null) {
        break;
      }
      cached.add(new Published(sequence, message.timestampMs(), message.json()));
      cachedBytes += message.bytes();
    }
    if (!cached.isEmpty() && (cached.size() == upTo - from + 1 || cachedBytes >= FETCH_MAX_BYTES)) {
      onRead.accept(cached, null);
      return;
    }
    readLog(from, limit)
        .onComplete(ar -> {
          if (ar.failed()) {
            onRead.accept(null, ar.cause());
            return;
          }
          List<Published> read = new ArrayList<>(ar.result().size());
          for (StoredMessage message : ar.result()) {
            if (message.sequence() > upTo) {
              break;
            }
            read.add(new Published(message.sequence(), message.timestampMs(),
                new String(message.payload(), StandardCharsets.UTF_8)));
          }
          onRead.accept(read, null);
        });
  }

  /**
   * The sequence to read from to get the messages published at or after {@code timestampMs}: the
   * first retained one that recent, else the next sequence to be written. Found by binary search in
   * the store (publish times are non-decreasing), never by a scan.
   */
  public void firstSequenceAt(long timestampMs, BiConsumer<Long, Throwable> onSequence) {
    run(() -> {
      long next = lastDurable + 1;
      long subjectIdToSearch = subjectId;
      env.readers().executeBlocking(() -> env.store().firstSequenceAtOrAfter(subjectIdToSearch, timestampMs), false)
          .compose(local -> archive.firstSequenceAt(timestampMs, firstSequence, local))
          .onComplete(ar -> {
            if (ar.failed()) {
              onSequence.accept(null, ar.cause());
            } else {
              onSequence.accept(ar.result() == 0 ? next : ar.result(), null);
            }
          });
    }, failing(onSequence));
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
      consumers.remove(subscriber);
      onDone.accept(lastDurable, null);
    }, failing(onDone));
  }

  /**
   * Acknowledges deliveries in order, each freeing its window slot, with one hop to the actor's
   * context (a socket's acks of one event-loop turn); then refills the window once, so the pushes
   * that follow leave in one batch.
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

  /** The subscriber's connection, which refused a push ({@link Subscriber#mayPush}), can take more again. */
  public void resume(Subscriber subscriber) {
    run(() -> {
      Consumer consumer = consumers.get(subscriber);
      if (consumer != null) {
        pump(consumer);
      }
    }, failure -> { });
  }

  /**
   * Delivers from the redelivery queue, then new messages, while the ack window has room and the
   * subscriber's connection takes more.
   */
  private void pump(Consumer consumer) {
    int maxInFlight = env.config().maxInFlight();
    while (!consumer.fetching && consumer.pending.size() < maxInFlight) {
      Consumer.Redelivery redelivery = consumer.redeliveries.peek();
      if (!consumer.subscriber.mayPush(redelivery != null)) {
        return;
      }
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
        cached = fetchedPages.get(sequence);
      }
      if (cached == null) {
        fetch(consumer, sequence, redelivery != null ? 1 : FETCH_PAGE);
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
      consumer.redelivered++;
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
    readLog(from, count)
        .onComplete(ar -> {
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

  /**
   * Messages from {@code from}: from the local store, or, where it no longer holds them (they left
   * the hot window, or the subject was restored), from the segment in the bucket that does.
   */
  private Future<List<StoredMessage>> readLog(long from, int count) {
    long subjectIdToRead = subjectId;
    return readLocal(env, subjectIdToRead, from, count, FETCH_MAX_BYTES).compose(local -> {
      boolean missing = local.isEmpty() || local.get(0).sequence() > from;
      // With the manifest unknown (bucket unreachable) the segments are asked anyway: the read fails
      // and is retried, rather than the subscriber skipping messages that only the bucket holds.
      if (!missing || from < firstSequence || archive.manifestKnown() && from > archive.checkpointedUpTo()) {
        return Future.succeededFuture(local);
      }
      return archive.read(from, count).compose(archived -> {
        if (archived.isEmpty()) {
          return Future.succeededFuture(local);
        }
        long next = archived.get(archived.size() - 1).sequence() + 1;
        if (archived.size() >= count || next > lastDurable) {
          return Future.succeededFuture(archived);
        }
        // The segment ended: go on in the next one (or the local store), up to count messages.
        return readLog(next, count - archived.size()).map(more -> {
          List<StoredMessage> joined = new ArrayList<>(archived.size() + more.size());
          joined.addAll(archived);
          for (StoredMessage message : more) {
            if (message.sequence() == joined.get(joined.size() - 1).sequence() + 1) {
              joined.add(message);
            }
          }
          return joined;
        });
      });
    });
  }

  private static Future<List<StoredMessage>> readLocal(StreamEnvironment env, long id, long from, int count,
                                                      long maxBytes) {
    return env.readers().executeBlocking(() -> env.store().read(id, from, count, maxBytes), false);
  }

  /** The actor's side of its {@link SubjectArchive}; called on the actor's context. */
  private final class ArchiveHost implements SubjectArchive.Host {

    @Override
    public SubjectArchive.Snapshot snapshot() {
      return new SubjectArchive.Snapshot(firstSequence, lastDurable, state, durableProducerVersion, lastTimestampMs,
          attributes);
    }

    @Override
    public Future<List<StoredMessage>> readLocal(long from, int maxMessages, long maxBytes) {
      return StreamActor.readLocal(env, subjectId, from, maxMessages, maxBytes);
    }

    @Override
    public void evict(long upTo) {
      if (attributes.length > 0) {
        // A Durable Streams subject: that view reads the store directly, so its messages stay local.
        return;
      }
      var policy = env.archive().policy();
      long minTimestamp = env.clock().millis() - policy.hotAge().toMillis();
      enqueue(new StoreWrite.Evict(upTo, policy.hotMessages(), policy.hotBytes(), minTimestamp), new Completion() {
        @Override
        public void succeeded() {
          env.metrics().registry().counter("dstream_archive_eviction_runs").increment();
        }

        @Override
        public void failed(Throwable failure) {
          LOG.warn("subject '{}': evicting checkpointed messages from the local store failed: {}", subject,
              failure.toString());
        }
      });
    }
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
    List<CachedMessage> page = new ArrayList<>(fetched.size());
    for (StoredMessage message : fetched) {
      if (message.sequence() > lastDurable || !page.isEmpty()
          && message.sequence() != page.get(page.size() - 1).sequence() + 1) {
        break;
      }
      page.add(new CachedMessage(message.sequence(), message.timestampMs(),
          new String(message.payload(), StandardCharsets.UTF_8), message.payload().length));
    }
    fetchedPages.add(page);
    int room = env.config().maxInFlight() - consumer.pending.size();
    for (int i = 0; i < page.size() && i < room; i++) {
      CachedMessage message = page.get(i);
      boolean expected = redelivering ? message.sequence() == from : message.sequence() == consumer.nextSequence;
      if (!expected || !consumer.subscriber.mayPush(redelivering)) {
        return;
      }
      deliverNext(consumer, message.sequence(), message.json());
      if (redelivering) {
        return;
      }
    }
  }

  // ---- housekeeping (called by the shard on the actor's context) ------------------------------

  /** Expires overdue deliveries and refills windows. */
  void tick(long nowMs) {
    if (phase == Phase.READY) {
      archive.tick(nowMs);
    }
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

  /** Pushes awaiting an ack over this subject's subscribers. */
  int inFlight() {
    int pending = 0;
    for (Consumer consumer : consumers.values()) {
      pending += consumer.pending.size();
    }
    return pending;
  }

  /** True when nothing holds this actor in memory: no socket, no write in flight, idle long enough. */
  boolean hibernatable(long nowMs) {
    return phase == Phase.READY && attachedSessions == 0 && consumers.isEmpty() && waiters.isEmpty()
        && changeWaiters.isEmpty() && inFlightCompletions == null && nextWrites.isEmpty() && nextCompletions.isEmpty()
        && nowMs - lastActivityMs >= env.config().idleTimeout().toMillis();
  }

  /**
   * The archive link of a hibernating actor if it still has work (a checkpoint to take, a manifest
   * to read, checkpoints to delete), switched to a host that needs no actor; {@code null} if idle.
   * Called by the shard when it releases this actor, which then has nothing in flight.
   */
  SubjectArchive detachArchive() {
    if (archive.idle()) {
      return null;
    }
    long id = subjectId;
    StreamEnvironment environment = env;
    // The reader must not capture this actor: the link can wait long for the bucket, and a retained
    // actor (its message cache above all) cost 4 KB per hibernated subject while checkpoints lagged.
    archive.host(SubjectArchive.detachedHost(
        new SubjectArchive.Snapshot(firstSequence, lastDurable, state, durableProducerVersion, lastTimestampMs,
            attributes),
        (from, maxMessages, maxBytes) -> readLocal(environment, id, from, maxMessages, maxBytes)));
    return archive;
  }
}
