package io.dstream.broker.stream;

/**
 * A subject's state object (UTF-8 JSON) with its revision (0 while it was never set) and the last
 * durable sequence when it was read.
 */
public record StateSnapshot(byte[] stateJson, long revision, long lastSequence) {
}
