package io.dstream.broker.files;

import java.util.HashMap;
import java.util.Map;

/**
 * Uploads in progress, bounded across the broker and per client address, so that slow uploads can
 * never hold every transfer thread: the rest of the pool keeps serving downloads, listings and
 * deletions, and one client cannot take every upload slot. (HTTP/1.1 carries one request at a
 * time, so a connection holds at most one upload.) Thread-safe: uploads start and end on every
 * event loop; the counts are guarded by this object's monitor.
 */
final class UploadSlots {

  private final int max;
  private final int maxPerClient;
  private final Map<String, Integer> perClient = new HashMap<>();
  private int inUse;

  UploadSlots(int max, int maxPerClient) {
    this.max = max;
    this.maxPerClient = maxPerClient;
  }

  /** Takes a slot for {@code client}; null if taken, else why not. */
  synchronized String tryAcquire(String client) {
    if (inUse >= max) {
      return "the broker has " + max + " uploads in progress";
    }
    int mine = perClient.getOrDefault(client, 0);
    if (mine >= maxPerClient) {
      return "this client has " + maxPerClient + " uploads in progress";
    }
    inUse++;
    perClient.put(client, mine + 1);
    return null;
  }

  synchronized void release(String client) {
    inUse--;
    perClient.computeIfPresent(client, (key, count) -> count == 1 ? null : count - 1);
  }
}
