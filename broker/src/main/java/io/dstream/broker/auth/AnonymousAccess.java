package io.dstream.broker.auth;

import io.vertx.core.http.HttpMethod;

import java.util.Locale;

/**
 * What a request without any credential may do on the stream surfaces ({@code /stream/*} and
 * {@code /v1/stream/*}); files, admin and metrics always need a credential. A request that presents
 * a wrong credential is refused whatever this says.
 */
public enum AnonymousAccess {
  /** Nothing: every request needs a credential (the default). */
  NONE,
  /** Reads: {@code GET} and {@code HEAD} without a WebSocket upgrade (a v1 socket can publish). */
  READ,
  /** Everything on the stream surfaces: reads, writes, WebSocket sessions. */
  ALL;

  private static final String STREAM_PREFIX = "/stream/";
  private static final String DURABLE_PREFIX = "/v1/stream/";

  /** Parses {@code none} / {@code read} / {@code all} (case-insensitive), as in {@code DSTREAM_ANONYMOUS}. */
  public static AnonymousAccess parse(String value) {
    switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "none": return NONE;
      case "read": return READ;
      case "all": return ALL;
      default: throw new IllegalArgumentException("DSTREAM_ANONYMOUS must be 'none', 'read' or 'all', got '" + value + "'");
    }
  }

  /** Whether a request without credentials may do {@code method} on {@code path}. */
  public boolean permits(HttpMethod method, String path, boolean webSocketUpgrade) {
    if (this == NONE || !(path.startsWith(STREAM_PREFIX) || path.startsWith(DURABLE_PREFIX))) {
      return false;
    }
    if (this == ALL) {
      return true;
    }
    return (method == HttpMethod.GET || method == HttpMethod.HEAD) && !webSocketUpgrade;
  }
}
