package io.dstream.broker.durablestreams;

import java.io.ByteArrayOutputStream;
import io.dstream.broker.stream.Subjects;
import io.dstream.pattern.TokenPattern;

import java.nio.charset.StandardCharsets;

/**
 * Maps a Durable Streams path (anything after {@code /v1/stream/}, percent-decoded, {@code /}
 * allowed) to its subject and back. Subjects of this view form the namespace {@code ds.}: the path's
 * letters, digits, {@code -} and {@code _} stay, every other UTF-8 byte becomes {@code ~XX} (upper-case
 * hex). The mapping is reversible and always yields one valid subject token, e.g. {@code orders/eu.1}
 * is {@code ds.orders~2Feu~2E1}.
 */
final class StreamPaths {

  static final String NAMESPACE = "ds.";
  private static final char ESCAPE = '~';
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private StreamPaths() {
  }

  /** The subject of {@code path}, or null when the path is empty or its subject too long. */
  static String subject(String path) {
    if (path.isEmpty()) {
      return null;
    }
    StringBuilder subject = new StringBuilder(NAMESPACE);
    for (byte b : path.getBytes(StandardCharsets.UTF_8)) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_') {
        subject.append((char) c);
      } else {
        subject.append(ESCAPE).append(HEX[c >> 4]).append(HEX[c & 0xf]);
      }
    }
    String result = subject.toString();
    return Subjects.violation(result) == null ? result : null;
  }

  /** The path of a subject of this namespace. */
  static String path(String subject) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    for (int i = NAMESPACE.length(); i < subject.length(); i++) {
      char c = subject.charAt(i);
      if (c == ESCAPE) {
        bytes.write(Integer.parseInt(subject.substring(i + 1, i + 3), 16));
        i += 2;
      } else {
        bytes.write(c);
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }

  /** A path with leading, trailing and repeated slashes removed (as subscription globs see paths). */
  static String normalize(String path) {
    return String.join("/", TokenPattern.segments(path));
  }
}
