package io.dstream.broker.store;

/** One message as stored: its sequence, publish time and payload (the UTF-8 JSON of the stored object). */
public record StoredMessage(long sequence, long timestampMs, byte[] payload) {
}
