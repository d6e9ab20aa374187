package io.dstream.broker.config;

import io.dstream.pattern.TokenPattern;

import java.time.Duration;
import java.util.List;

/**
 * The NATS client protocol (protocol v2) on its TCP port and on {@code /nats}.
 *
 * @param port              TCP port of the protocol; 0 = no TCP listener ({@code /nats} on the HTTP port stays);
 *                          {@value #ANY_FREE_PORT} = any free port (tests)
 * @param maxPayload        largest message (headers and payload), announced in {@code INFO} as {@code max_payload}
 * @param maxControlLine    longest protocol line (a {@code PUB}'s subjects and counts); more is a violation
 * @param maxPendingBytes   bytes a connection may have waiting to be sent (messages, acks) before it is
 *                          closed as a slow consumer; announced in no field (nats-server's {@code max_pending})
 * @param maxSubscriptions  subscriptions per connection
 * @param authTimeout       a connection that has not sent {@code CONNECT} within this is closed
 * @param ephemeral         subject patterns whose messages are delivered but not stored (request subjects,
 *                          inboxes): everything else is durable
 * @param maxWildcardSubjects subjects one durable consumer of a wildcard stream follows at most (each costs
 *                          a position in memory and in its saved state; see docs/consumers-and-retention.md)
 */
public record NatsSettings(int port, int maxPayload, int maxControlLine, long maxPendingBytes, int maxSubscriptions,
                           Duration authTimeout, List<String> ephemeral, int maxWildcardSubjects) {

  /** The port value that picks any free port, logged once bound. */
  public static final int ANY_FREE_PORT = -1;

  /** Inboxes, the NATS services API and our convention for service subjects. */
  public static final List<String> DEFAULT_EPHEMERAL = List.of("_INBOX.>", "$SRV.>", "svc.>");

  /** Off (port 0) until asked for: the broker binary turns it on at 4222 ({@code DSTREAM_NATS_PORT}). */
  public static final NatsSettings DEFAULT = new NatsSettings(0, 1024 * 1024, 4096, 64L * 1024 * 1024, 10_000,
      Duration.ofSeconds(5), DEFAULT_EPHEMERAL);

  /** The default number of subjects a wildcard consumer follows at most. */
  public static final int DEFAULT_MAX_WILDCARD_SUBJECTS = 10_000;

  /** The settings with the default bound on wildcard consumers' subjects. */
  public NatsSettings(int port, int maxPayload, int maxControlLine, long maxPendingBytes, int maxSubscriptions,
                      Duration authTimeout, List<String> ephemeral) {
    this(port, maxPayload, maxControlLine, maxPendingBytes, maxSubscriptions, authTimeout, ephemeral,
        DEFAULT_MAX_WILDCARD_SUBJECTS);
  }

  public NatsSettings {
    if (port < ANY_FREE_PORT || port > 65535) {
      throw new IllegalArgumentException("the NATS port must be 0..65535 (or -1 for any free one), got " + port);
    }
    if (maxPayload <= 0 || maxControlLine < 256 || maxPendingBytes <= 0 || maxSubscriptions <= 0
        || maxWildcardSubjects <= 0) {
      throw new IllegalArgumentException("NATS limits must be > 0 (the control line at least 256 bytes)");
    }
    if (authTimeout == null || authTimeout.isZero() || authTimeout.isNegative()) {
      throw new IllegalArgumentException("the NATS auth timeout must be a positive duration");
    }
    ephemeral = List.copyOf(ephemeral);
    ephemeral.forEach(TokenPattern::subjects);
  }

  public NatsSettings withPort(int newPort) {
    return new NatsSettings(newPort, maxPayload, maxControlLine, maxPendingBytes, maxSubscriptions, authTimeout,
        ephemeral, maxWildcardSubjects);
  }

  public NatsSettings withMaxWildcardSubjects(int subjects) {
    return new NatsSettings(port, maxPayload, maxControlLine, maxPendingBytes, maxSubscriptions, authTimeout,
        ephemeral, subjects);
  }
}
