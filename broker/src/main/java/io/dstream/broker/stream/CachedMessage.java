package io.dstream.broker.stream;

/** A message held in the actor's memory (tail cache or fetched page): its stored bytes, never copied. */
record CachedMessage(long sequence, long timestampMs, byte[] stored) {

  int bytes() {
    return stored.length;
  }
}
