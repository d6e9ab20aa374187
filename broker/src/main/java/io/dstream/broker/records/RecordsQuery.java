package io.dstream.broker.records;

import io.dstream.broker.stream.StreamActor;
import io.vertx.core.MultiMap;

import java.time.OffsetDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/**
 * The query of a records GET, validated: where to start ({@code offset} or {@code since}), how many
 * ({@code limit}, capped) and how long to wait for the first record ({@code timeout_sec}, capped).
 *
 * @param fromSequence the first sequence to return, or {@link StreamActor#ONLY_NEW}; ignored with {@code since}
 * @param sinceMs      a publish time to start from, or null
 */
record RecordsQuery(long fromSequence, Long sinceMs, int limit, long waitMs) {

  static final int DEFAULT_LIMIT = 10;
  private static final String INVALID_ARGUMENT = "invalid_argument";

  static RecordsQuery parse(MultiMap params, int maxLimit, long maxWaitMs) throws InvalidRequestException {
    String offset = params.get("offset");
    String since = params.get("since");
    if (offset != null && since != null) {
      throw new InvalidRequestException(INVALID_ARGUMENT, "give offset or since, not both");
    }
    long from = offset == null ? StreamActor.ONLY_NEW : "-".equals(offset) ? 1 : after(nonNegative("offset", offset));
    Long sinceMs = since == null ? null : parseTime(since);
    String limitText = params.get("limit");
    long limit = limitText == null ? DEFAULT_LIMIT : nonNegative("limit", limitText);
    if (limit == 0) {
      throw new InvalidRequestException(INVALID_ARGUMENT, "limit must be at least 1");
    }
    String timeout = params.get("timeout_sec");
    long waitMs = timeout == null ? 0 : Math.min(maxWaitMs, waitMillis(timeout));
    return new RecordsQuery(from, sinceMs, (int) Math.min(limit, maxLimit), waitMs);
  }

  /** The first sequence after {@code offset}; nothing can follow the largest one, so it reads nothing. */
  private static long after(long offset) {
    return offset == Long.MAX_VALUE ? Long.MAX_VALUE : offset + 1;
  }

  private static long nonNegative(String name, String text) throws InvalidRequestException {
    try {
      long value = Long.parseLong(text);
      if (value >= 0) {
        return value;
      }
    } catch (NumberFormatException e) {
      // answered below, with the parameter's name
    }
    throw new InvalidRequestException(INVALID_ARGUMENT, name + " must be a non-negative integer"
        + ("offset".equals(name) ? " or '-'" : "") + ", got '" + text + "'");
  }

  private static long waitMillis(String text) throws InvalidRequestException {
    try {
      double seconds = Double.parseDouble(text);
      if (seconds >= 0 && Double.isFinite(seconds)) {
        return (long) Math.min(Long.MAX_VALUE / 2.0, Math.ceil(seconds * 1000));
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new InvalidRequestException(INVALID_ARGUMENT,
        "timeout_sec must be a non-negative number of seconds, got '" + text + "'");
  }

  /** Epoch milliseconds, or an RFC 3339 date-time (a {@code +} decoded to a space is put back). */
  private static long parseTime(String text) throws InvalidRequestException {
    if (!text.isEmpty() && text.chars().allMatch(Character::isDigit)) {
      return nonNegative("since", text);
    }
    String normalized = text.toUpperCase(Locale.ROOT);
    for (String candidate : new String[] {normalized, normalized.replace(' ', '+')}) {
      try {
        return OffsetDateTime.parse(candidate, DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant().toEpochMilli();
      } catch (DateTimeParseException | ArithmeticException e) {
        // the next candidate, then the error below
      }
    }
    throw new InvalidRequestException(INVALID_ARGUMENT, "since must be epoch milliseconds or an RFC 3339 date-time"
        + " (2024-05-01T12:00:00Z), got '" + text + "'");
  }
}
