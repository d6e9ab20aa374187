package io.dstream.pattern;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The one pattern matcher of the project: a name is a list of tokens, and so is a pattern, whose
 * tokens are literals or wildcards. Two syntaxes share the matching:
 * <ul>
 *   <li>{@link #subjects NATS subjects}: tokens separated by dots; {@code *} matches exactly one
 *   token, a final {@code >} one or more ({@code >} alone matches every subject). Used by auth
 *   scopes and the CLI's subject filters.</li>
 *   <li>{@link #paths Durable Streams paths}: segments separated by slashes (empty ones ignored);
 *   {@code *} matches one segment, {@code **} zero or more anywhere, and {@code %2A} stands for a
 *   literal {@code *}. Used by subscription globs.</li>
 * </ul>
 * Immutable and thread-safe.
 */
public final class TokenPattern {

  private enum Kind { LITERAL, ONE, ONE_OR_MORE_AT_END, ZERO_OR_MORE }

  private record Token(Kind kind, String literal) {
  }

  private static final Pattern DOT = Pattern.compile("\\.");
  private static final Pattern ESCAPED_STAR = Pattern.compile("%2[Aa]");

  private final String text;
  private final boolean paths;
  private final Token[] tokens;

  private TokenPattern(String text, boolean paths, Token[] tokens) {
    this.text = text;
    this.paths = paths;
    this.tokens = tokens;
  }

  /**
   * A NATS-style subject pattern.
   * @throws IllegalArgumentException for an empty pattern or token, a {@code >} that is not last, or
   *     a wildcard that is not a whole token
   */
  public static TokenPattern subjects(String pattern) {
    if (pattern == null || pattern.isEmpty()) {
      throw invalidSubjects(pattern);
    }
    String[] parts = DOT.split(pattern, -1);
    Token[] tokens = new Token[parts.length];
    for (int i = 0; i < parts.length; i++) {
      String part = parts[i];
      if (part.isEmpty() || part.equals(">") && i != parts.length - 1
          || part.length() > 1 && (part.contains("*") || part.contains(">"))) {
        throw invalidSubjects(pattern);
      }
      tokens[i] = switch (part) {
        case "*" -> new Token(Kind.ONE, null);
        case ">" -> new Token(Kind.ONE_OR_MORE_AT_END, null);
        default -> new Token(Kind.LITERAL, part);
      };
    }
    return new TokenPattern(pattern, false, tokens);
  }

  private static IllegalArgumentException invalidSubjects(String pattern) {
    return new IllegalArgumentException("invalid subject pattern '" + (pattern == null ? "" : pattern)
        + "': tokens must not be empty, wildcards must be whole tokens, and > may only be the last token");
  }

  /** A Durable Streams glob over stream paths; every string is a valid one. */
  public static TokenPattern paths(String pattern) {
    List<Token> tokens = new ArrayList<>();
    for (String segment : segments(pattern)) {
      tokens.add(switch (segment) {
        case "*" -> new Token(Kind.ONE, null);
        case "**" -> new Token(Kind.ZERO_OR_MORE, null);
        default -> new Token(Kind.LITERAL, ESCAPED_STAR.matcher(segment).replaceAll("*"));
      });
    }
    return new TokenPattern(pattern, true, tokens.toArray(Token[]::new));
  }

  /** A path's segments: leading, trailing and repeated slashes ignored. */
  public static String[] segments(String path) {
    return Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
  }

  /** True when {@code name} (a subject, or a path for {@link #paths} patterns) matches. */
  public boolean matches(String name) {
    return paths ? match(0, segments(name), 0) : matchesSubject(name);
  }

  /**
   * A subject pattern against a subject, walking the subject's tokens in place: splitting it with a
   * regular expression on every check was most of what a permission check cost.
   */
  private boolean matchesSubject(String name) {
    int at = 0;
    for (Token token : tokens) {
      if (at > name.length()) {
        return false;
      }
      int end = name.indexOf('.', at);
      if (end < 0) {
        end = name.length();
      }
      switch (token.kind()) {
        case ONE_OR_MORE_AT_END -> {
          return true;
        }
        case LITERAL -> {
          String literal = token.literal();
          if (end - at != literal.length() || !name.startsWith(literal, at)) {
            return false;
          }
        }
        default -> {
          // ONE: any single token (ZERO_OR_MORE exists only in path patterns).
        }
      }
      at = end + 1;
    }
    return at == name.length() + 1;
  }

  private boolean match(int p, String[] name, int n) {
    for (; p < tokens.length; p++, n++) {
      Token token = tokens[p];
      switch (token.kind()) {
        case ZERO_OR_MORE -> {
          for (int rest = n; rest <= name.length; rest++) {
            if (match(p + 1, name, rest)) {
              return true;
            }
          }
          return false;
        }
        case ONE_OR_MORE_AT_END -> {
          return name.length > n;
        }
        case ONE -> {
          if (n >= name.length) {
            return false;
          }
        }
        default -> {
          if (n >= name.length || !token.literal().equals(name[n])) {
            return false;
          }
        }
      }
    }
    return n == name.length;
  }

  @Override
  public String toString() {
    return text;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof TokenPattern p && paths == p.paths && Arrays.equals(tokens, p.tokens);
  }

  @Override
  public int hashCode() {
    return Arrays.hashCode(tokens);
  }
}
