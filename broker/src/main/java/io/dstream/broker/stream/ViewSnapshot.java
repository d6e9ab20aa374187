package io.dstream.broker.stream;

/**
 * A subject as readers may see it: durable writes only. {@code version} changes with every durable
 * write of the subject; {@link StreamActor#awaitChange} waits for it to move.
 */
public record ViewSnapshot(long subjectId, long firstSequence, long lastSequence, byte[] attributes, long version) {
}
