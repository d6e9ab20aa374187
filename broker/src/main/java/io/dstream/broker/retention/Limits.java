package io.dstream.broker.retention;

import io.vertx.core.json.JsonObject;

import java.util.Set;

/**
 * How much a subject keeps: messages older than {@code maxAgeMs}, beyond {@code maxMessages} or
 * beyond {@code maxBytes} of payload go (or, with {@link Discard#NEW}, the last two refuse the next
 * publish instead), and a message larger than {@code maxMessageSize} is refused. 0 is unlimited,
 * for each bound. Immutable.
 *
 * <p>Sizes are of the message as stored: a NATS message's headers and payload plus a 6-byte mark,
 * a protocol v1 or records API message's stored object (its JSON with {@code data}, {@code cMsgId},
 * {@code clientId}, {@code ip} and {@code sequence}); the same bytes {@code getStreamInfo}'s
 * {@code bytes} counts.
 */
public record Limits(long maxAgeMs, long maxMessages, long maxBytes, long maxMessageSize, Discard discard) {

  /** No bound at all: what a subject has without rules and without a broker-wide default. */
  public static final Limits UNLIMITED = new Limits(0, 0, 0, 0, Discard.OLD);

  private static final Set<String> FIELDS = Set.of("maxAgeMs", "maxMessages", "maxBytes", "maxMessageSize", "discard");

  public Limits {
    if (maxAgeMs < 0 || maxMessages < 0 || maxBytes < 0 || maxMessageSize < 0) {
      throw new IllegalArgumentException("limits must be >= 0 (0 = unlimited)");
    }
    if (discard == null) {
      discard = Discard.OLD;
    }
  }

  /** True when no bound is set. */
  public boolean unlimited() {
    return maxAgeMs == 0 && maxMessages == 0 && maxBytes == 0 && maxMessageSize == 0;
  }

  /** True when the sweeper may delete old messages: an age bound, or a count or byte bound with discard old. */
  public boolean trimsOld() {
    return maxAgeMs > 0 || discard == Discard.OLD && (maxMessages > 0 || maxBytes > 0);
  }

  /** True when a full subject refuses publishes: a count or byte bound with discard new. */
  public boolean refusesNew() {
    return discard == Discard.NEW && (maxMessages > 0 || maxBytes > 0);
  }

  /** {@code {"maxAgeMs","maxMessages","maxBytes","maxMessageSize","discard"}}, 0 for unlimited. */
  public JsonObject toJson() {
    return new JsonObject().put("maxAgeMs", maxAgeMs).put("maxMessages", maxMessages).put("maxBytes", maxBytes)
        .put("maxMessageSize", maxMessageSize).put("discard", discard.wire());
  }

  /**
   * Limits from their JSON form; absent or null fields are unlimited (discard: old).
   *
   * @throws IllegalArgumentException naming the field, for an unknown field, a value that is not a
   *     whole number >= 0, or a discard other than {@code old}/{@code new}
   */
  public static Limits fromJson(JsonObject json) {
    for (String field : json.fieldNames()) {
      if (!FIELDS.contains(field)) {
        throw new IllegalArgumentException("unknown field '" + field + "'; the fields are " + String.join(", ",
            "maxAgeMs", "maxMessages", "maxBytes", "maxMessageSize", "discard"));
      }
    }
    Object discard = json.getValue("discard");
    if (discard != null && !(discard instanceof String)) {
      throw new IllegalArgumentException("discard must be \"old\" or \"new\"");
    }
    return new Limits(bound(json, "maxAgeMs"), bound(json, "maxMessages"), bound(json, "maxBytes"),
        bound(json, "maxMessageSize"), discard == null ? Discard.OLD : Discard.parse((String) discard));
  }

  private static long bound(JsonObject json, String field) {
    Object value = json.getValue(field);
    if (value == null) {
      return 0;
    }
    if (!(value instanceof Integer || value instanceof Long) || ((Number) value).longValue() < 0) {
      throw new IllegalArgumentException(field + " must be a whole number >= 0 (0 = unlimited), got " + value);
    }
    return ((Number) value).longValue();
  }
}
