package io.dstream.broker.stream;

import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The publishes of one subject within the dedup window, keyed by {@link StoredObject#dedupKey(String, String)}: a publish
 * retried after a reconnect finds its original sequence here instead of being stored twice.
 *
 * <p>Bounded twice: entries older than the window are dropped, and beyond {@code maxEntries} the
 * oldest go first. Entries are kept in insertion order, which is sequence order and (since the
 * actor's timestamps never decrease) time order, so both bounds only ever remove from the head.
 * The window lives in memory only; {@link StreamActor} rebuilds it from the stored tail on load, so
 * it survives hibernation and restarts.
 *
 * <p>Not thread-safe: owned by one {@link StreamActor}.
 */
final class DedupWindow {

  /** Where a remembered publish went. */
  record Entry(long sequence, long timestampMs) {
  }

  private final Map<String, Entry> entries = new LinkedHashMap<>();
  /** The key of the newest remembered publish and its sequence (JetStream's expected last msg id). */
  private String newestKey;
  private long newestSequence;
  private final long windowMs;
  private final int maxEntries;

  DedupWindow(long windowMs, int maxEntries) {
    this.windowMs = windowMs;
    this.maxEntries = maxEntries;
  }

  /** @return the earlier publish under {@code key} still in the window, or null */
  Entry find(String key, long nowMs) {
    expire(nowMs);
    return entries.get(key);
  }

  void remember(String key, long sequence, long timestampMs) {
    entries.putIfAbsent(key, new Entry(sequence, timestampMs));
    if (sequence >= newestSequence) {
      newestKey = key;
      newestSequence = sequence;
    }
    Iterator<Entry> oldest = entries.values().iterator();
    while (entries.size() > maxEntries) {
      oldest.next();
      oldest.remove();
    }
  }

  /** Forgets publishes whose write failed: their sequences are assigned again. */
  void forgetAfter(long lastDurable) {
    entries.values().removeIf(entry -> entry.sequence() > lastDurable);
    if (newestSequence > lastDurable) {
      newestKey = null;
      newestSequence = 0;
    }
  }

  /** The key the message at {@code sequence} was published under, if it is the newest remembered one; else null. */
  String keyOfNewest(long sequence) {
    return newestSequence == sequence ? newestKey : null;
  }

  /** Forgets everything: the subject was destroyed and its sequences start again at 1. */
  void clear() {
    entries.clear();
    newestKey = null;
    newestSequence = 0;
  }

  /** @return the oldest publish time still in the window at {@code nowMs} */
  long horizon(long nowMs) {
    return nowMs - windowMs;
  }

  int maxEntries() {
    return maxEntries;
  }

  private void expire(long nowMs) {
    long horizon = horizon(nowMs);
    Iterator<Entry> oldest = entries.values().iterator();
    while (oldest.hasNext() && oldest.next().timestampMs() < horizon) {
      oldest.remove();
    }
  }
}
