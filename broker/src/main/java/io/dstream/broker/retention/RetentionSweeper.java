package io.dstream.broker.retention;

import io.dstream.broker.config.RetentionSettings;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.Ownership;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Deletes what retention limits expire: messages older than a subject's age limit, and with discard
 * old the oldest messages beyond its message or byte limit.
 *
 * <p>Each tick (every {@link RetentionSettings#sweepInterval}, the next one only after the last one
 * finished) reads a page of at most {@link RetentionSettings#subjectsPerTick} subject records from
 * the store, after a cursor that walks the whole listing and starts over at its end, so subjects
 * whose actors hibernated are reached too. Only subjects whose limits may delete anything are
 * looked at further, and only when some rule or the default may ({@link RetentionRules#trimsOld}),
 * else a tick reads nothing. What to delete is worked out from the applied record and, for age
 * and bytes, from the oldest local messages, on the store readers' pool; the deletions then go to
 * each subject's actor as a {@code deleteUpTo} step, so they are ordered with its publishes and
 * written by the group-commit writer like any write (waking a hibernated subject, at most one per
 * subject examined). A tick deletes at most {@link RetentionSettings#deletionsPerTick} messages in
 * all; a subject with more to go is examined again first at the next tick.
 *
 * <p>In cluster mode the local store also holds replicas of subjects other nodes lead: a tick
 * skips every subject whose partition this node does not lead now ({@link Ownership#term}), as its
 * leader sweeps it and the deletion replicates here.
 *
 * <p>The age of a message is its publish time ({@link StreamActor#firstSequenceAt}'s order: publish
 * times never decrease within a subject) against the broker's clock. Only when a subject's oldest
 * retained messages already left the local store for the bucket (the hot window) and the oldest
 * local one is still young does the tick ask the actor, which looks in the bucket's segments.
 *
 * <p>Threading: ticks run on the context that {@link #start}ed the sweeper, planning on a reader
 * thread; the cursor is only touched by the one tick in progress.
 */
public final class RetentionSweeper {

  private static final Logger LOG = LoggerFactory.getLogger(RetentionSweeper.class);
  private static final int SIZE_PAGE = 1000;
  private static final long SIZE_PAGE_BYTES = 4L * 1024 * 1024;

  private final Vertx vertx;
  private final MessageStore store;
  private final WorkerExecutor readers;
  private final StreamRegistry registry;
  private final Retention retention;
  private final RetentionSettings settings;
  private final Clock clock;
  private final Ownership ownership;
  private Context context;
  private String cursor;
  private long timer = -1;
  private boolean stopped;
  private Future<Void> tick = Future.succeededFuture();

  /** Deletion of a subject's messages up to a sequence. */
  private record Trim(String subject, long upTo) {
  }

  /** An age limit to resolve through the actor (old messages in the bucket), deleting at most up to {@code maxUpTo}. */
  private record AgeLookup(String subject, long cutoffMs, long maxUpTo) {
  }

  private record Plan(List<Trim> trims, List<AgeLookup> lookups, String nextCursor) {
  }

  public RetentionSweeper(Vertx vertx, MessageStore store, WorkerExecutor readers, StreamRegistry registry,
                          Retention retention, RetentionSettings settings, Clock clock, Ownership ownership) {
    this.vertx = vertx;
    this.store = store;
    this.readers = readers;
    this.registry = registry;
    this.retention = retention;
    this.settings = settings;
    this.clock = clock;
    this.ownership = ownership;
  }

  /** Starts ticking on the caller's context. */
  public void start() {
    context = vertx.getOrCreateContext();
    context.runOnContext(v -> schedule());
  }

  /** Stops ticking; completes once a tick in progress finished. */
  public Future<Void> stop() {
    if (context == null) {
      return Future.succeededFuture();
    }
    return Future.future(promise -> context.runOnContext(v -> {
      stopped = true;
      if (timer >= 0) {
        vertx.cancelTimer(timer);
      }
      tick.onComplete(ar -> promise.complete());
    }));
  }

  private void schedule() {
    if (!stopped) {
      timer = vertx.setTimer(settings.sweepInterval().toMillis(), id -> sweep());
    }
  }

  private void sweep() {
    RetentionRules rules = retention.current();
    if (!rules.trimsOld()) {
      cursor = null;
      schedule();
      return;
    }
    long nowMs = clock.millis();
    String from = cursor;
    tick = readers.executeBlocking(() -> plan(rules, from, nowMs), false).compose(plan -> {
      cursor = plan.nextCursor();
      return apply(plan);
    }).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("retention sweep failed, retrying at the next tick: {}", ar.cause().toString());
      }
      schedule();
    });
  }

  // ---- planning, on a reader thread -----------------------------------------------------------

  private Plan plan(RetentionRules rules, String from, long nowMs) {
    List<Map.Entry<String, SubjectRecord>> page = store.subjects(from, settings.subjectsPerTick());
    List<Trim> trims = new ArrayList<>();
    List<AgeLookup> lookups = new ArrayList<>();
    long budget = settings.deletionsPerTick();
    String examined = from;
    for (Map.Entry<String, SubjectRecord> entry : page) {
      String subject = entry.getKey();
      SubjectRecord record = entry.getValue();
      Limits limits = rules.effective(subject).limits();
      if (limits.trimsOld() && record.messages() > 0 && ownership.term(subject) >= 0) {
        long first = record.firstSequence();
        long upTo = upTo(record, limits, nowMs, budget);
        if (upTo >= first) {
          boolean partial = upTo - first + 1 > budget;
          upTo = Math.min(upTo, first + budget - 1);
          trims.add(new Trim(subject, upTo));
          budget -= upTo - first + 1;
          if (partial) {
            // More to delete than this tick may: the cursor stays before the subject, so it comes first next time.
            return new Plan(trims, lookups, examined);
          }
        } else if (limits.maxAgeMs() > 0 && ageNeedsTheBucket(record, nowMs - limits.maxAgeMs())) {
          lookups.add(new AgeLookup(subject, nowMs - limits.maxAgeMs(), first + budget - 1));
        }
      }
      examined = subject;
      if (budget <= 0) {
        return new Plan(trims, lookups, examined);
      }
    }
    return new Plan(trims, lookups, page.size() < settings.subjectsPerTick() ? null : examined);
  }

  /** The last sequence the limits expire (below the first retained one: none), from the record and the local store. */
  private long upTo(SubjectRecord record, Limits limits, long nowMs, long budget) {
    long upTo = record.firstSequence() - 1;
    if (limits.discard() == Discard.OLD && limits.maxMessages() > 0 && record.messages() > limits.maxMessages()) {
      upTo = record.lastSequence() - limits.maxMessages();
    }
    if (limits.discard() == Discard.OLD && limits.maxBytes() > 0 && record.bytes() > limits.maxBytes()) {
      upTo = Math.max(upTo, bytesUpTo(record, record.bytes() - limits.maxBytes(), budget));
    }
    if (limits.maxAgeMs() > 0) {
      long cutoff = nowMs - limits.maxAgeMs();
      if (record.lastTimestampMs() < cutoff) {
        return record.lastSequence();
      }
      List<StoredMessage> oldest = store.read(record.id(), record.firstSequence(), 1, 1);
      if (!oldest.isEmpty() && oldest.get(0).timestampMs() < cutoff) {
        long keep = store.firstSequenceAtOrAfter(record.id(), cutoff);
        upTo = Math.max(upTo, keep > 0 ? keep - 1 : record.lastSequence());
      }
    }
    return upTo;
  }

  /**
   * The last sequence to delete so that {@code excess} payload bytes go, reading the oldest local
   * messages' sizes (older ones, already only in the bucket, go too: they are older still); at most
   * {@code budget} messages from the first retained one.
   */
  private long bytesUpTo(SubjectRecord record, long excess, long budget) {
    long freed = 0;
    long from = record.firstSequence();
    long last = record.firstSequence() - 1;
    while (freed < excess && last - record.firstSequence() + 1 < budget) {
      List<StoredMessage> page = store.read(record.id(), from, SIZE_PAGE, SIZE_PAGE_BYTES);
      if (page.isEmpty()) {
        break;
      }
      for (StoredMessage message : page) {
        freed += message.payload().length;
        last = message.sequence();
        if (freed >= excess || last - record.firstSequence() + 1 >= budget) {
          break;
        }
      }
      from = last + 1;
    }
    return last;
  }

  /**
   * True when messages older than the local store's oldest one exist (they left for the bucket) and
   * that local one is young: whether any of the older ones expired only the bucket can tell.
   */
  private boolean ageNeedsTheBucket(SubjectRecord record, long cutoffMs) {
    List<StoredMessage> oldest = store.read(record.id(), record.firstSequence(), 1, 1);
    return oldest.isEmpty() || oldest.get(0).sequence() > record.firstSequence() && oldest.get(0).timestampMs() >= cutoffMs;
  }

  // ---- deleting, through the actors -----------------------------------------------------------

  private Future<Void> apply(Plan plan) {
    List<Future<Void>> done = new ArrayList<>();
    plan.trims().forEach(trim -> done.add(delete(trim.subject(), trim.upTo())));
    for (AgeLookup lookup : plan.lookups()) {
      done.add(registry.<Long>ask(lookup.subject(), context,
          (actor, reply) -> actor.firstSequenceAt(lookup.cutoffMs(), reply))
          .compose(keep -> keep > 1 ? delete(lookup.subject(), Math.min(keep - 1, lookup.maxUpTo()))
              : Future.succeededFuture()));
    }
    return Future.join(done).mapEmpty();
  }

  private Future<Void> delete(String subject, long upTo) {
    return registry.<Void>call(subject, context, tx -> {
      // A subject destroyed since the plan starts again from nothing: nothing of it is old.
      if (tx.lastSequence() > 0) {
        tx.deleteUpTo(upTo);
      }
      return null;
    });
  }
}
