package io.dstream.broker.limits;

/**
 * A request-rate limit: {@code ratePerSecond} tokens refill continuously up to {@code burst}; each
 * request takes one. Not thread-safe: one bucket belongs to one connection and is used on its
 * event loop.
 */
public final class TokenBucket {

  private final double ratePerNano;
  private final double burst;
  private double tokens;
  private long lastRefillNanos;

  public TokenBucket(double ratePerSecond, int burst, long nowNanos) {
    if (ratePerSecond <= 0 || burst <= 0) {
      throw new IllegalArgumentException("rate and burst must be > 0");
    }
    this.ratePerNano = ratePerSecond / 1e9;
    this.burst = burst;
    this.tokens = burst;
    this.lastRefillNanos = nowNanos;
  }

  /** Takes a token if one is there. */
  public boolean tryTake(long nowNanos) {
    long elapsed = nowNanos - lastRefillNanos;
    if (elapsed > 0) {
      tokens = Math.min(burst, tokens + elapsed * ratePerNano);
      lastRefillNanos = nowNanos;
    }
    if (tokens >= 1) {
      tokens -= 1;
      return true;
    }
    return false;
  }
}
