package io.dstream.broker.auth;

import io.dstream.pattern.TokenPattern;
import java.util.List;
import java.util.Locale;

/**
 * What a request without any credential may do ({@code DSTREAM_ANONYMOUS}): on the stream surfaces
 * ({@code /stream/*}, {@code /v1/stream/*}) only, as {@link Permissions} without files and admin. A
 * request that presents a wrong credential is refused whatever this says.
 */
public enum AnonymousAccess {
  /** Nothing: every request needs a credential (the default). */
  NONE,
  /** Read and subscribe to every subject, publish nothing. */
  READ,
  /** Publish to and read every subject. */
  ALL;

  private static final List<TokenPattern> EVERY_SUBJECT = List.of(TokenPattern.subjects(">"));

  /** Parses {@code none} / {@code read} / {@code all} (case-insensitive), as in {@code DSTREAM_ANONYMOUS}. */
  public static AnonymousAccess parse(String value) {
    switch (value.trim().toLowerCase(Locale.ROOT)) {
      case "none": return NONE;
      case "read": return READ;
      case "all": return ALL;
      default: throw new IllegalArgumentException("DSTREAM_ANONYMOUS must be 'none', 'read' or 'all', got '" + value + "'");
    }
  }

  /** The permissions of a request without credentials, or null when such requests are refused. */
  public Permissions permissions() {
    if (this == NONE) {
      return null;
    }
    return new Permissions("anonymous", this == ALL ? EVERY_SUBJECT : List.of(), EVERY_SUBJECT, List.of(), List.of(),
        false, Long.MAX_VALUE);
  }
}
