package io.dstream.broker.retention;

import io.dstream.broker.cluster.LeaderCalls;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamInfo;
import io.dstream.broker.stream.StreamRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;

/**
 * The broker's live retention rules, kept durably: the whole rule set is the last message of the
 * system subject {@value #SUBJECT} (each change appends the new set and deletes the ones before),
 * so it is in H2 (replicated, in cluster mode) and checkpointed to the bucket like any subject, and
 * read back by {@link #load} before the broker serves. A change is in force once durable: actors see
 * the new set at their next write ({@link #current} is a new object), the {@link RetentionSweeper}
 * at its next tick.
 *
 * <p>Every read and write of {@value #SUBJECT} goes through {@link LeaderCalls}: a change is the
 * operation {@value #CHANGE}, run on the node leading the subject (this one, on a single node),
 * which reads the stored set, edits it and appends the result; the calling node then takes that
 * set. In cluster mode the other nodes {@link #follow} the subject: they check its last sequence
 * every {@code DSTREAM_RETENTION_REFRESH_INTERVAL_MS} and read the set when it moved, so a change
 * made through one node is in force on every node within about that interval.
 *
 * <p>Threading: {@link #current} may be read from any thread (a volatile reference to an immutable
 * set, replaced only by a set stored at a higher sequence). On the leading node changes are
 * serialised by a chain of futures, and each appends only if the subject is still at the sequence
 * its edit started from, so two concurrent changes, through any nodes, never lose one another.
 */
public final class Retention {

  /** The system subject holding the rule set. */
  public static final String SUBJECT = RetentionRules.SYSTEM_PREFIX + "RETENTION";
  /** The leader call that edits the stored set. */
  static final String CHANGE = "retention.change";
  private static final Logger LOG = LoggerFactory.getLogger(Retention.class);
  private static final long LOAD_PAGE_BYTES = 16L * 1024 * 1024;
  /** Edits that found the subject moved on under them (only across a change of leader) are run again this often. */
  private static final int CHANGE_ATTEMPTS = 3;

  private final int maxRules;
  private volatile RetentionRules current;
  /** The sequence {@link #current} was stored at (0: none read yet); guarded by {@code this}. */
  private long currentSequence;
  private LeaderCalls calls;
  private StreamRegistry registry;
  private Future<Buffer> changes = Future.succeededFuture();
  private Vertx vertx;
  private volatile long refreshTimer = -1;
  private volatile boolean stopped;
  private boolean refreshFailing;

  /** A stored rule set and the sequence it is stored at. */
  private record Stored(long sequence, RetentionRules rules) {
  }

  /** The default alone until {@link #load}; at most {@code maxRules} rules. */
  public Retention(Limits defaults, int maxRules) {
    this.current = RetentionRules.of(defaults);
    this.maxRules = maxRules;
  }

  /** The rule set in force now. */
  public RetentionRules current() {
    return current;
  }

  /** The limits of {@code subject} now, and the rule they come from. */
  public EffectiveLimits effective(String subject) {
    return current.effective(subject);
  }

  /**
   * Reads and writes {@value #SUBJECT} through {@code leaderCalls} from now on, and registers
   * {@value #CHANGE} there, run on {@code streams} when this node leads the subject. Before
   * {@link #load}, {@link #follow}, {@link #put} or {@link #remove}.
   */
  public void serve(StreamRegistry streams, LeaderCalls leaderCalls) {
    this.registry = streams;
    this.calls = leaderCalls;
    leaderCalls.register(CHANGE, (subject, request, context) -> inTurn(request.toJsonObject(), context));
  }

  /**
   * Reads the stored rule set. {@code present} says whether it may exist (in the local store, or in
   * the bucket for a restore): without it no actor is made for {@value #SUBJECT}, and only the
   * default is in force.
   */
  public Future<Void> load(boolean present) {
    if (!present) {
      return Future.succeededFuture();
    }
    return calls.info(SUBJECT).compose(this::readIfNewer);
  }

  /**
   * Cluster mode: keeps the rule set current from the node leading {@value #SUBJECT}, checking its
   * last sequence every {@code interval} (a read of the set only when it moved). The future completes
   * after the first load, or once it failed (no leader within the cluster's forward timeout: an
   * election, a lost quorum): a node starts then with the default alone, logged, and the checks go
   * on, so the stored rules are in force from the first check that reaches the leader.
   */
  public Future<Void> follow(Vertx vertx, Duration interval) {
    this.vertx = vertx;
    return check().onComplete(ar -> schedule(interval));
  }

  /** Stops {@link #follow}ing. */
  public void stop() {
    stopped = true;
    if (vertx != null && refreshTimer >= 0) {
      vertx.cancelTimer(refreshTimer);
    }
  }

  private void schedule(Duration interval) {
    if (!stopped) {
      refreshTimer = vertx.setTimer(interval.toMillis(), id -> check().onComplete(ar -> schedule(interval)));
    }
  }

  /** One check: completes (never fails) once the set is current, or with the failure logged once until a check succeeds. */
  private Future<Void> check() {
    return calls.info(SUBJECT).compose(this::readIfNewer).transform(ar -> {
      if (stopped) {
        return Future.succeededFuture();
      }
      if (ar.failed() && !refreshFailing) {
        LOG.warn("retention rules not read from the node leading {}, {} in force here until a check succeeds: {}",
            SUBJECT, currentSequence() == 0 ? "the default alone" : "the last rules read", ar.cause().toString());
      } else if (ar.succeeded() && refreshFailing) {
        LOG.info("retention rules read again from the node leading {}", SUBJECT);
      }
      refreshFailing = ar.failed();
      return Future.succeededFuture();
    });
  }

  private Future<Void> readIfNewer(StreamInfo info) {
    if (info.messages() == 0 || info.lastSequence() <= currentSequence()) {
      return Future.succeededFuture();
    }
    return calls.read(SUBJECT, info.lastSequence(), 1, LOAD_PAGE_BYTES).map(page -> {
      if (!page.isEmpty()) {
        adopt(page.get(0).sequence(), decode(page.get(0).stored()));
      }
      return null;
    });
  }

  private synchronized long currentSequence() {
    return currentSequence;
  }

  /** Puts {@code rules} in force if stored after the set in force (a check and a change may cross). */
  private synchronized void adopt(long sequence, RetentionRules rules) {
    if (sequence > currentSequence) {
      currentSequence = sequence;
      current = rules;
    }
  }

  private RetentionRules decode(byte[] stored) {
    return RetentionRules.decode(current.defaults(), new JsonObject(Buffer.buffer(stored)));
  }

  /**
   * Sets the rule of {@code pattern} (replacing one with the same pattern); completes with the new
   * set once it is durable and in force. Fails with {@link StreamError.Kind#INVALID} for a bad
   * pattern, a system pattern or one rule too many.
   */
  public Future<RetentionRules> put(String pattern, Limits limits, Context caller) {
    try {
      new RetentionRule(pattern, limits);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(StreamError.invalid("invalid_pattern", e.getMessage()));
    }
    // Setting a rule again to the same limits changes nothing: a put may be sent again after a timeout.
    return change(new JsonObject().put("pattern", pattern).put("limits", limits.toJson()), true, caller);
  }

  /** Removes the rule of {@code pattern}; completes with the new set, or fails {@code not_found} if there is none. */
  public Future<RetentionRules> remove(String pattern, Context caller) {
    return change(new JsonObject().put("pattern", pattern), false, caller);
  }

  private Future<RetentionRules> change(JsonObject edit, boolean idempotent, Context caller) {
    Future<RetentionRules> changed = calls.call(SUBJECT, CHANGE, edit.toBuffer(), idempotent).map(answer -> {
      long sequence = answer.getLong(0);
      RetentionRules rules = decode(answer.getBytes(8, answer.length()));
      adopt(sequence, rules);
      return rules;
    });
    return Future.future(promise -> changed.onComplete(ar -> caller.runOnContext(v -> promise.handle(ar))));
  }

  // ---- on the node leading SUBJECT ------------------------------------------------------------

  /** Runs one edit after the ones before it here; answers the stored sequence and set. */
  private synchronized Future<Buffer> inTurn(JsonObject edit, Context context) {
    Future<Buffer> next = changes.transform(previous -> changeHere(edit, context, CHANGE_ATTEMPTS));
    changes = next;
    return next;
  }

  private Future<Buffer> changeHere(JsonObject edit, Context context, int attempts) {
    return storedHere(context).compose(stored -> {
      RetentionRules edited;
      try {
        edited = edited(stored.rules(), edit);
      } catch (StreamError e) {
        return Future.failedFuture(e);
      }
      byte[] encoded = edited.encode();
      return registry.<Long>call(SUBJECT, context, tx -> {
        if (tx.lastSequence() != stored.sequence()) {
          return -1L;
        }
        long sequence = tx.append(encoded);
        tx.deleteUpTo(sequence - 1);
        return sequence;
      }).compose(sequence -> {
        if (sequence >= 0) {
          return Future.succeededFuture(Buffer.buffer(8 + encoded.length).appendLong(sequence).appendBytes(encoded));
        }
        return attempts > 1 ? changeHere(edit, context, attempts - 1) : Future.failedFuture(StreamError.of(
            StreamError.Kind.UNAVAILABLE, "retention_busy", "the retention rules kept changing under this change; retry"));
      });
    });
  }

  /** The set stored in {@value #SUBJECT} now, read from its actor here (which refuses if this node no longer leads it). */
  private Future<Stored> storedHere(Context context) {
    return registry.<StreamInfo>ask(SUBJECT, context, StreamActor::info).compose(info -> {
      if (info.messages() == 0) {
        return Future.succeededFuture(new Stored(info.lastSequence(), RetentionRules.of(current.defaults())));
      }
      return registry.<List<Published>>ask(SUBJECT, context,
          (actor, reply) -> actor.readPage(info.lastSequence(), 1, LOAD_PAGE_BYTES, reply))
          .map(page -> new Stored(info.lastSequence(), page.isEmpty()
              ? RetentionRules.of(current.defaults()) : decode(page.get(0).stored())));
    });
  }

  /** {@code rules} after the edit: a put carries {@code limits}, a removal none. */
  private RetentionRules edited(RetentionRules rules, JsonObject edit) {
    String pattern = edit.getString("pattern");
    JsonObject limits = edit.getJsonObject("limits");
    if (limits == null) {
      if (rules.rule(pattern) == null) {
        throw StreamError.notFound("not_found", "no retention rule for '" + pattern + "'");
      }
      return rules.without(pattern);
    }
    RetentionRule rule;
    try {
      rule = new RetentionRule(pattern, Limits.fromJson(limits));
    } catch (IllegalArgumentException e) {
      throw StreamError.invalid("invalid_pattern", e.getMessage());
    }
    if (rules.rule(pattern) == null && rules.rules().size() >= maxRules) {
      throw StreamError.invalid("too_many_rules", "the broker keeps at most " + maxRules
          + " retention rules (DSTREAM_RETENTION_MAX_RULES); remove one or use a wider pattern");
    }
    return rules.with(rule);
  }
}
