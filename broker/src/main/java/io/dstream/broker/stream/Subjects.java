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
}
