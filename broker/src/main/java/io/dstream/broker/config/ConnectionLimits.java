package io.dstream.broker.config;

import java.time.Duration;

/**
 * Bounds on what one client connection may hold or do.
 *
 * @param maxConnections       open TCP connections (HTTP and WebSocket); more are answered 503 and closed
 * @param requestsPerSecond    sustained v1 requests (publishes and commands, not acks) per socket
 * @param requestBurst         requests a socket may send at once above the sustained rate
 * @param slowConsumerGrace    how long a WebSocket may hold its whole memory budget (unsent replies and
 *                             pushes, unanswered requests) before it is closed as too slow
 * @param maxActiveSubjects    subjects with an actor in memory at once; a socket or request for one
 *                             more is refused with 503 until idle subjects hibernate
 * @param idleTimeout          a connection with nothing read or written this long is closed
 * @param requestHeaderTimeout a new connection must have sent a complete request head within this
 *                             (slowloris defence; the idle timeout alone is reset by every trickled byte)
 * @param pingInterval         WebSocket pings keep idle subscribers' connections open and find vanished peers
 */
public record ConnectionLimits(int maxConnections, double requestsPerSecond, int requestBurst,
                               Duration slowConsumerGrace, int maxActiveSubjects, Duration idleTimeout,
                               Duration requestHeaderTimeout, Duration pingInterval) {

  public static final ConnectionLimits DEFAULT = new ConnectionLimits(100_000, 100_000, 20_000,
      Duration.ofSeconds(30), 2_000_000, Duration.ofSeconds(120), Duration.ofSeconds(10), Duration.ofSeconds(30));

  /** The same limits with other timeouts. */
  public ConnectionLimits withTimeouts(Duration idle, Duration requestHead, Duration ping) {
    return new ConnectionLimits(maxConnections, requestsPerSecond, requestBurst, slowConsumerGrace, maxActiveSubjects,
        idle, requestHead, ping);
  }

  public ConnectionLimits {
    if (maxConnections <= 0 || requestsPerSecond <= 0 || requestBurst <= 0 || maxActiveSubjects <= 0) {
      throw new IllegalArgumentException("connection limits must be > 0");
    }
    for (Duration d : new Duration[] {slowConsumerGrace, idleTimeout, requestHeaderTimeout, pingInterval}) {
      if (d == null || d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException("connection timeouts must be positive durations, got " + d);
      }
    }
    if (pingInterval.compareTo(idleTimeout) >= 0) {
      throw new IllegalArgumentException("the WebSocket ping interval must be shorter than the idle timeout");
    }
  }
}
