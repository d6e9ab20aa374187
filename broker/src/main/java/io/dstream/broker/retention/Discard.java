package io.dstream.broker.retention;

import java.util.Locale;

/** What a subject at its message or byte limit does with the next message: drop the oldest, or refuse it. */
public enum Discard {
  /** The oldest messages are deleted to make room (the default, as JetStream's). */
  OLD,
  /** The publish is refused with a clear error; nothing is stored. */
  NEW;

  /** {@code old} or {@code new}, as JSON and the CLI spell it. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** Parses {@code old} or {@code new} (any case). */
  public static Discard parse(String text) {
    if (text != null) {
      for (Discard discard : values()) {
        if (discard.wire().equalsIgnoreCase(text)) {
          return discard;
        }
      }
    }
    throw new IllegalArgumentException("discard must be \"old\" or \"new\", got " + (text == null ? "nothing" : "'" + text + "'"));
  }
}
