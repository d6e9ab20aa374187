package io.dstream.broker.stream;

/** A durable message: its sequence, publish time and stored JSON (a publish's result or a read's). */
public record Published(long sequence, long timestampMs, String json) {
}
