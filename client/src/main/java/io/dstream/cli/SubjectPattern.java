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
      // The broker's rules (its auth SubjectPattern), so that a pattern it would refuse fails here first.
      if (tokens[i].isEmpty() || tokens[i].equals(">") && i != tokens.length - 1
          || tokens[i].length() > 1 && (tokens[i].contains("*") || tokens[i].contains(">"))) {
        throw new IllegalArgumentException("invalid subject pattern '" + pattern
            + "': tokens must not be empty, wildcards must be whole tokens, and > may only be the last token");
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
