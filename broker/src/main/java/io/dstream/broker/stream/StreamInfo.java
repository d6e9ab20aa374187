package io.dstream.broker.stream;

/** A subject's numbers as its actor sees them, acknowledged writes only. */
public record StreamInfo(long firstSequence, long lastSequence, long messages, long bytes, int subscribers) {
}
