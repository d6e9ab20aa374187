package io.dstream.broker.auth;

import java.util.Arrays;

/**
 * A NATS-style subject pattern: dot-separated tokens where {@code *} matches exactly one token and a
 * final {@code >} matches one or more remaining tokens. {@code >} alone matches every subject.
 * Immutable and thread-safe.
 */
public final class SubjectPattern {

  private final String text;
  private final String[] tokens;

  private SubjectPattern(String text, String[] tokens) {
    this.text = text;
    this.tokens = tokens;
  }

  /** Parses a pattern, refusing empty tokens and a {@code >} that is not the last token. */
  public static SubjectPattern parse(String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      throw new IllegalArgumentException("a subject pattern must not be empty");
    }
    String[] tokens = pattern.split("\\.", -1);
    for (int i = 0; i < tokens.length; i++) {
      String token = tokens[i];
      if (token.isEmpty()) {
        throw new IllegalArgumentException("subject pattern '" + pattern + "' has an empty token");
      }
      if (token.equals(">") && i != tokens.length - 1) {
        throw new IllegalArgumentException("subject pattern '" + pattern + "': '>' must be the last token");
      }
      if (token.length() > 1 && (token.contains("*") || token.contains(">"))) {
        throw new IllegalArgumentException("subject pattern '" + pattern + "': wildcards must be whole tokens");
      }
    }
    return new SubjectPattern(pattern, tokens);
  }

  /** True when {@code subject} (a valid subject, no wildcards) matches. */
  public boolean matches(String subject) {
    String[] subjectTokens = subject.split("\\.", -1);
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i].equals(">")) {
        return subjectTokens.length > i;
      }
      if (i >= subjectTokens.length) {
        return false;
      }
      if (!tokens[i].equals("*") && !tokens[i].equals(subjectTokens[i])) {
        return false;
      }
    }
    return subjectTokens.length == tokens.length;
  }

  @Override
  public String toString() {
    return text;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof SubjectPattern p && Arrays.equals(tokens, p.tokens);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(tokens);
  }
}
