package io.dstream.broker.stream;

/**
 * The most recent messages of one subject, contiguous by sequence, bounded by count and bytes, so
 * live subscribers are served from memory and anyone further behind reads from the store.
 * Not thread-safe: owned by one {@link StreamActor}.
 */
final class MessageCache {

  private final CachedMessage[] ring;
  private final long maxBytes;
  private long firstSequence = 1;
  private int size;
  private long bytes;

  MessageCache(int maxMessages, long maxBytes) {
    this.ring = new CachedMessage[maxMessages];
    this.maxBytes = maxBytes;
  }

  void add(CachedMessage message) {
    if (size > 0 && message.sequence() != firstSequence + size) {
      clear();
    }
    if (size == 0) {
      firstSequence = message.sequence();
    }
    if (size == ring.length) {
      evictFirst();
    }
    ring[index(message.sequence())] = message;
    size++;
    bytes += message.bytes();
    while (bytes > maxBytes && size > 1) {
      evictFirst();
    }
  }

  CachedMessage get(long sequence) {
    if (size == 0 || sequence < firstSequence || sequence >= firstSequence + size) {
      return null;
    }
    return ring[index(sequence)];
  }

  /** Forgets messages with sequence {@code <= upTo} (deleted). */
  void dropUpTo(long upTo) {
    while (size > 0 && firstSequence <= upTo) {
      evictFirst();
    }
  }

  /** Forgets messages with sequence {@code > last} (their write failed). */
  void truncateAfter(long last) {
    while (size > 0 && firstSequence + size - 1 > last) {
      long sequence = firstSequence + size - 1;
      bytes -= ring[index(sequence)].bytes();
      ring[index(sequence)] = null;
      size--;
    }
  }

  private void evictFirst() {
    int i = index(firstSequence);
    bytes -= ring[i].bytes();
    ring[i] = null;
    firstSequence++;
    size--;
  }

  private void clear() {
    while (size > 0) {
      evictFirst();
    }
  }

  private int index(long sequence) {
    return (int) Math.floorMod(sequence, (long) ring.length);
  }
}
