package io.dstream.broker.stream;

/** A recent message held in the actor's memory for live delivery. */
record CachedMessage(long sequence, long timestampMs, String json, int bytes) {
}
