package io.dstream.broker.config;

import java.time.Duration;

/**
 * Bounds on what one client connection may hold or do.
 *
 * @param maxConnections       open TCP connections (HTTP and WebSocket); more are answered 503 and closed
 * @param requestsPerSecond    sustained v1 requests (publishes and commands, not acks) per socket
 * @param requestBurst         requests a socket may send at once above the sustained rate
 * @param slowConsumerGrace    how long a socket's outbound queue may stay over its high-water mark
 *                             before the socket is closed as too slow
 * @param maxActiveSubjects    subjects with an actor in memory at once; a socket or request for one
 *                             more is refused with 503 until idle subjects hibernate
 */
public record ConnectionLimits(int maxConnections, double requestsPerSecond, int requestBurst,
                               Duration slowConsumerGrace, int maxActiveSubjects) {

  public static final ConnectionLimits DEFAULT =
      new ConnectionLimits(100_000, 100_000, 20_000, Duration.ofSeconds(30), 2_000_000);

  public ConnectionLimits {
    if (maxConnections <= 0 || requestsPerSecond <= 0 || requestBurst <= 0 || maxActiveSubjects <= 0) {
      throw new IllegalArgumentException("connection limits must be > 0");
    }
    if (slowConsumerGrace == null || slowConsumerGrace.isNegative() || slowConsumerGrace.isZero()) {
      throw new IllegalArgumentException("slowConsumerGrace must be a positive duration");
    }
  }
}
