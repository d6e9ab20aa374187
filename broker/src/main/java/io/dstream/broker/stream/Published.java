package io.dstream.broker.stream;

/** A publish that is durable: its sequence, publish time and stored JSON. */
public record Published(long sequence, long timestampMs, String json) {
}
