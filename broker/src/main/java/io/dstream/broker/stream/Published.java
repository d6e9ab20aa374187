package io.dstream.broker.stream;

/**
 * A durable message: its sequence, publish time and stored JSON (a publish's result or a read's). {@code duplicate} marks the
 * answer to a repeated publish (same dedup key within the window): nothing new was stored, and
 * {@code sequence} and {@code timestampMs} are the original's.
 */
public record Published(long sequence, long timestampMs, String json, boolean duplicate) {

  public Published(long sequence, long timestampMs, String json) {
    this(sequence, timestampMs, json, false);
  }
}
