package io.dstream.broker.nats;

import io.dstream.broker.retention.Discard;
import io.dstream.broker.retention.Limits;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.Subjects;
import io.dstream.pattern.TokenPattern;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * What a stream create or update request's config ({@code StreamConfig} of the JetStream API) says
 * that our model holds: the stream's one subject or pattern, and its limits, which become the
 * retention rule of that subject. A config our model cannot hold is refused with
 * {@code invalid_config}. Stateless.
 */
final class StreamConfig {

  private StreamConfig() {
  }

  /** The subject or pattern a create or update request names: its one {@code subjects} entry, else the stream's name. */
  static String requestedSubject(String name, JsonObject config) {
    return subject(config.getJsonArray("subjects", new JsonArray().add(name)));
  }

  /**
   * A stream's one subject: a literal subject, or one wildcard pattern (not over the broker's own
   * {@code $} subjects). Several are refused: each subject is its own stream with its own sequence.
   */
  private static String subject(JsonArray subjects) {
    if (subjects.size() != 1 || !(subjects.getValue(0) instanceof String subject)) {
      throw StreamError.invalid("invalid_config", "durable-stream: a stream has exactly one subject or one wildcard"
          + " pattern (every subject is its own stream with its own sequence), got " + subjects.encode()
          + "; declare one stream per subject, or one stream on a pattern such as 'orders.>'");
    }
    if (SubjectPatterns.isPattern(subject)) {
      try {
        TokenPattern.subjects(subject);
      } catch (IllegalArgumentException e) {
        throw StreamError.invalid("invalid_config", e.getMessage());
      }
      if (subject.startsWith("$") || subject.startsWith(">") || subject.startsWith("*")) {
        throw StreamError.invalid("invalid_config", "durable-stream: a wildcard stream's pattern must start with a"
            + " literal token that is not one of the broker's own ('$...'), got '" + subject + "'");
      }
      return subject;
    }
    String violation = Subjects.violation(subject);
    if (violation != null) {
      throw StreamError.invalid("invalid_config", "invalid stream subject '" + subject + "': " + violation);
    }
    return subject;
  }

  /** A stream config's limits: {@code max_age} in nanoseconds, counts and sizes where 0 or less is unlimited. */
  static Limits limits(JsonObject config) {
    try {
      long maxAgeNs = config.getLong("max_age", 0L);
      Object discard = config.getValue("discard", "old");
      if (!(discard instanceof String text)) {
        throw new IllegalArgumentException("discard must be \"old\" or \"new\"");
      }
      return new Limits(maxAgeNs <= 0 ? 0 : Math.max(1, maxAgeNs / 1_000_000), Math.max(0, config.getLong("max_msgs", 0L)),
          Math.max(0, config.getLong("max_bytes", 0L)), Math.max(0, config.getLong("max_msg_size", 0L)),
          Discard.parse(text));
    } catch (ClassCastException | IllegalArgumentException e) {
      throw StreamError.of(StreamError.Kind.INVALID, "invalid_config", "invalid stream limits: "
          + (e instanceof ClassCastException ? "max_age, max_msgs, max_bytes and max_msg_size must be numbers"
          : e.getMessage()));
    }
  }
}
