package io.dstream.broker.stream;

/**
 * A durable message: its sequence, publish time and stored bytes (an append's result or a read's).
 * {@code duplicate} marks the answer to a repeated append (same dedup key within the window):
 * nothing new was stored, and {@code sequence}, {@code timestampMs} and {@code stored} are the
 * original's. The array is never modified after construction.
 */
public record Published(long sequence, long timestampMs, byte[] stored, boolean duplicate) {

  public Published(long sequence, long timestampMs, byte[] stored) {
    this(sequence, timestampMs, stored, false);
  }
}
