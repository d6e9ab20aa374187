package io.dstream.cli;

/**
 * A NATS-style subject pattern: tokens separated by dots, {@code *} matches exactly one token,
 * a final {@code >} matches one or more tokens. Without wildcards it matches the subject itself.
 */
final class SubjectPattern {

  private final String[] tokens;

  SubjectPattern(String pattern) {
    this.tokens = pattern.split("\\.", -1);
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i].isEmpty() || tokens[i].equals(">") && i != tokens.length - 1) {
        throw new IllegalArgumentException("invalid subject pattern '" + pattern
            + "': tokens must not be empty, and > may only be the last token");
      }
    }
  }

  boolean matches(String subject) {
    String[] parts = subject.split("\\.", -1);
    for (int i = 0; i < tokens.length; i++) {
      if (tokens[i].equals(">")) {
        return parts.length > i;
      }
      if (i >= parts.length || !tokens[i].equals("*") && !tokens[i].equals(parts[i])) {
        return false;
      }
    }
    return parts.length == tokens.length;
  }
}
