package io.dstream.broker.stream;

/** A subject's state object (UTF-8 JSON) with the last durable sequence when it was read. */
public record StateSnapshot(byte[] stateJson, long lastSequence) {
}
