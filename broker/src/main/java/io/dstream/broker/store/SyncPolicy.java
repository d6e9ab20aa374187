package io.dstream.broker.store;

import java.time.Duration;

/**
 * When the writer forces the store to the disk ({@link MessageStore#sync}): with {@link SyncMode#ALWAYS}
 * after every commit and before its batches are acknowledged; with {@link SyncMode#OS} at most
 * {@code osInterval} after a commit (before the next commit once the last force is that old, and when
 * the writer idles), acknowledging without waiting for it. The H2 store sizes its chunk retention
 * from the same policy, so both must be given the same one.
 */
public record SyncPolicy(SyncMode mode, Duration osInterval) {

  public SyncPolicy {
    if (osInterval.isNegative() || osInterval.isZero()) {
      throw new IllegalArgumentException("the OS sync interval must be positive, got " + osInterval);
    }
  }

  public static SyncPolicy always() {
    return new SyncPolicy(SyncMode.ALWAYS, Duration.ofMillis(200));
  }
}
