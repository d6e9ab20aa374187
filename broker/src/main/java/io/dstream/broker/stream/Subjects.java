package io.dstream.broker.stream;

import java.nio.charset.StandardCharsets;

/**
 * The subject rules: 1 to 255 bytes of UTF-8, dot-separated tokens, no empty token, no whitespace,
 * control characters, {@code /}, or the wildcards {@code *} and {@code >}.
 */
public final class Subjects {

  public static final int MAX_BYTES = 255;

  private Subjects() {
  }

  /** Returns null when {@code subject} is valid, else a message saying which rule it breaks. */
  public static String violation(String subject) {
    if (subject.isEmpty()) {
      return "subject is empty";
    }
    if (plainAscii(subject)) {
      return null;
    }
    if (subject.getBytes(StandardCharsets.UTF_8).length > MAX_BYTES) {
      return "subject is longer than " + MAX_BYTES + " bytes";
    }
    int tokenLength = 0;
    for (int i = 0; i < subject.length(); i++) {
      char c = subject.charAt(i);
      if (c == '.') {
        if (tokenLength == 0) {
          return "subject has an empty token at position " + i;
        }
        tokenLength = 0;
        continue;
      }
      if (Character.isWhitespace(c) || Character.isSpaceChar(c)) {
        return "subject contains whitespace at position " + i;
      }
      if (Character.isISOControl(c)) {
        return "subject contains a control character at position " + i;
      }
      if (c == '/') {
        return "subject contains '/' at position " + i;
      }
      if (c == '*' || c == '>') {
        return "subject contains the wildcard '" + c + "' at position " + i + " (reserved)";
      }
      tokenLength++;
    }
    return tokenLength == 0 ? "subject ends with an empty token" : null;
  }

  /**
   * The common case, checked without Unicode lookups (those were a fifth of a NATS publish): at
   * most {@link #MAX_BYTES} printable ASCII characters other than the forbidden ones, no empty
   * token. False sends the subject through the full check, which names the rule it breaks.
   */
  private static boolean plainAscii(String subject) {
    int length = subject.length();
    if (length > MAX_BYTES || subject.charAt(0) == '.' || subject.charAt(length - 1) == '.') {
      return false;
    }
    char previous = 0;
    for (int i = 0; i < length; i++) {
      char c = subject.charAt(i);
      if (c <= ' ' || c >= 127 || c == '/' || c == '*' || c == '>' || c == '.' && previous == '.') {
        return false;
      }
      previous = c;
    }
    return true;
  }
}
