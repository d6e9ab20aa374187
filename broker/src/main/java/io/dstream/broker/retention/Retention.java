package io.dstream.broker.retention;

import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamInfo;
import io.dstream.broker.stream.StreamRegistry;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.UnaryOperator;

/**
 * The broker's live retention rules, kept durably: the whole rule set is the last message of the
 * system subject {@value #SUBJECT} (each change appends the new set and deletes the ones before),
 * so it is in H2 and checkpointed to the bucket like any subject, and read back by {@link #load}
 * before the broker serves. A change is in force once durable: actors see the new set at their next
 * write ({@link #current} is a new object), the {@link RetentionSweeper} at its next tick.
 *
 * <p>Threading: {@link #current} may be read from any thread (a volatile reference to an immutable
 * set). Changes are serialised by a chain of futures, each starting from the set the previous one
 * left, so two concurrent changes never lose one another.
 */
public final class Retention {

  /** The system subject holding the rule set. */
  public static final String SUBJECT = RetentionRules.SYSTEM_PREFIX + "RETENTION";
  private static final long LOAD_PAGE_BYTES = 16L * 1024 * 1024;

  private final int maxRules;
  private volatile RetentionRules current;
  private StreamRegistry registry;
  private Future<RetentionRules> changes = Future.succeededFuture();

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
   * Reads the stored rule set through {@code streams}, which later changes use too. {@code present}
   * says whether it may exist (in the local store, or in the bucket for a restore): without it no
   * actor is made for {@value #SUBJECT}, and only the default is in force.
   */
  public Future<Void> load(StreamRegistry streams, Context context, boolean present) {
    this.registry = streams;
    if (!present) {
      return Future.succeededFuture();
    }
    return streams.<StreamInfo>ask(SUBJECT, context, StreamActor::info).compose(info -> {
      if (info.messages() == 0) {
        return Future.succeededFuture();
      }
      return streams.<List<Published>>ask(SUBJECT, context,
          (actor, reply) -> actor.readPage(info.lastSequence(), 1, LOAD_PAGE_BYTES, reply)).map(page -> {
            if (!page.isEmpty()) {
              current = RetentionRules.decode(current.defaults(),
                  new JsonObject(new String(page.get(0).stored(), StandardCharsets.UTF_8)));
            }
            return null;
          });
    });
  }

  /**
   * Sets the rule of {@code pattern} (replacing one with the same pattern); completes with the new
   * set once it is durable and in force. Fails with {@link StreamError.Kind#INVALID} for a bad
   * pattern, a system pattern or one rule too many.
   */
  public Future<RetentionRules> put(String pattern, Limits limits, Context caller) {
    RetentionRule rule;
    try {
      rule = new RetentionRule(pattern, limits);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(StreamError.invalid("invalid_pattern", e.getMessage()));
    }
    return change(caller, rules -> {
      if (rules.rule(pattern) == null && rules.rules().size() >= maxRules) {
        throw StreamError.invalid("too_many_rules", "the broker keeps at most " + maxRules
            + " retention rules (DSTREAM_RETENTION_MAX_RULES); remove one or use a wider pattern");
      }
      return rules.with(rule);
    });
  }

  /** Removes the rule of {@code pattern}; completes with the new set, or fails {@code not_found} if there is none. */
  public Future<RetentionRules> remove(String pattern, Context caller) {
    return change(caller, rules -> {
      if (rules.rule(pattern) == null) {
        throw StreamError.notFound("not_found", "no retention rule for '" + pattern + "'");
      }
      return rules.without(pattern);
    });
  }

  private synchronized Future<RetentionRules> change(Context caller, UnaryOperator<RetentionRules> edit) {
    Future<RetentionRules> next = changes.transform(previous -> {
      RetentionRules edited;
      try {
        edited = edit.apply(current);
      } catch (StreamError e) {
        return Future.failedFuture(e);
      }
      byte[] stored = edited.encode();
      return registry.call(SUBJECT, caller, tx -> {
        long sequence = tx.append(stored);
        tx.deleteUpTo(sequence - 1);
        return sequence;
      }).map(sequence -> {
        current = edited;
        return edited;
      });
    });
    changes = next;
    return next;
  }
}
