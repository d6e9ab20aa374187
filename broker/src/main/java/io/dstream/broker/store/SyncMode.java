package io.dstream.broker.store;

/** How far a commit must reach before the writes it holds are acknowledged. */
public enum SyncMode {
  /** After {@code FileChannel.force}: survives power loss and kernel crashes. */
  ALWAYS,
  /** After the write reached the operating system: survives a killed broker process, not power loss. */
  OS;

  /** Parses {@code always} / {@code os} (case-insensitive), as in {@code DSTREAM_SYNC}. */
  public static SyncMode parse(String value) {
    switch (value.trim().toLowerCase(java.util.Locale.ROOT)) {
      case "always": return ALWAYS;
      case "os": return OS;
      default: throw new IllegalArgumentException("DSTREAM_SYNC must be 'always' or 'os', got '" + value + "'");
    }
  }
}
