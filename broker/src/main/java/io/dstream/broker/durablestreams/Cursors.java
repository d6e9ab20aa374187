package io.dstream.broker.durablestreams;

import java.util.concurrent.ThreadLocalRandom;

/**
 * {@code Stream-Cursor} values for CDN request collapsing: the number of 20-second intervals since
 * 2024-10-09T00:00Z, and, when the client already sent that interval or a later one, its value plus
 * 1 to 3600 seconds of random jitter, so a cursor never repeats and caches cannot loop.
 */
final class Cursors {

  private static final long EPOCH_MS = 1_728_432_000_000L;
  private static final long INTERVAL_SECONDS = 20;
  private static final int MAX_JITTER_SECONDS = 3600;

  private Cursors() {
  }

  static String next(String clientCursor, long nowMs) {
    long current = Math.floorDiv(nowMs - EPOCH_MS, INTERVAL_SECONDS * 1000);
    if (clientCursor == null || clientCursor.isEmpty()) {
      return Long.toString(current);
    }
    long client;
    try {
      client = Long.parseLong(clientCursor.trim());
    } catch (NumberFormatException e) {
      return Long.toString(current);
    }
    if (client < current) {
      return Long.toString(current);
    }
    int jitterSeconds = 1 + ThreadLocalRandom.current().nextInt(MAX_JITTER_SECONDS);
    long jitterIntervals = Math.max(1, (jitterSeconds + INTERVAL_SECONDS - 1) / INTERVAL_SECONDS);
    return Long.toString(client + jitterIntervals);
  }
}
