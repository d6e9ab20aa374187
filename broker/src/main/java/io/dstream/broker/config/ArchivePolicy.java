package io.dstream.broker.config;

import java.time.Duration;

/**
 * When subjects are checkpointed to the bucket and how much of each stays in the local store.
 *
 * <p>A checkpointed message leaves the local store (and is then read from its segment) as soon as
 * any hot-window bound is exceeded: more than {@code hotMessages} newer messages, more than
 * {@code hotBytes} payload bytes held locally, or older than {@code hotAge}.
 *
 * @param checkpointInterval the most time between a change to a subject and its checkpoint
 * @param hotMessages        messages a subject keeps locally (count bound)
 * @param hotBytes           payload bytes a subject keeps locally (byte bound)
 * @param hotAge             age after which a checkpointed message leaves the local store
 * @param retryMin           first delay before retrying a failed checkpoint
 * @param retryMax           longest delay between retries (the delay doubles up to this)
 */
public record ArchivePolicy(Duration checkpointInterval, long hotMessages, long hotBytes, Duration hotAge,
                            Duration retryMin, Duration retryMax) {

  public static final ArchivePolicy DEFAULT = new ArchivePolicy(Duration.ofSeconds(5), 100_000,
      64L * 1024 * 1024, Duration.ofDays(1), Duration.ofMillis(500), Duration.ofSeconds(30));

  public ArchivePolicy {
    positive(checkpointInterval, "checkpointInterval");
    positive(hotAge, "hotAge");
    positive(retryMin, "retryMin");
    positive(retryMax, "retryMax");
    if (hotMessages <= 0 || hotBytes <= 0) {
      throw new IllegalArgumentException("hot window bounds must be > 0");
    }
    if (retryMax.compareTo(retryMin) < 0) {
      throw new IllegalArgumentException("retryMax must be >= retryMin");
    }
  }

  private static void positive(Duration value, String name) {
    if (value == null || value.isZero() || value.isNegative()) {
      throw new IllegalArgumentException(name + " must be a positive duration, got " + value);
    }
  }

  /** The delay before attempt {@code failures + 1}: doubling from {@code retryMin}, capped at {@code retryMax}. */
  public long retryDelayMs(int failures) {
    long delay = retryMin.toMillis() << Math.min(failures, 20);
    return Math.min(delay, retryMax.toMillis());
  }
}
