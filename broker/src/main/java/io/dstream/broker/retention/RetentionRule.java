package io.dstream.broker.retention;

import io.dstream.pattern.TokenPattern;

import java.util.Comparator;

/**
 * One rule: a NATS subject pattern ({@code *} one token, a final {@code >} one or more) and the
 * {@link Limits} of the subjects it matches. Immutable.
 *
 * <p>Precedence when several rules match a subject ({@link #MOST_SPECIFIC_FIRST}): more literal
 * tokens first (so the rule naming the subject itself beats every wildcard); then a rule without
 * {@code >} before one with it; then more tokens; then the pattern's text, so the order is total
 * and the same on every broker.
 */
public final class RetentionRule {

  /** The order in which rules are tried: the first that matches a subject is its rule. */
  public static final Comparator<RetentionRule> MOST_SPECIFIC_FIRST = Comparator
      .comparingInt((RetentionRule rule) -> -rule.literalTokens)
      .thenComparing(rule -> rule.endsWithRest)
      .thenComparingInt(rule -> -rule.tokens)
      .thenComparing(rule -> rule.pattern);

  private final String pattern;
  private final TokenPattern matcher;
  private final Limits limits;
  private final int literalTokens;
  private final int tokens;
  private final boolean endsWithRest;

  /**
   * @throws IllegalArgumentException for an invalid pattern, or one reaching into the system
   *     subjects ({@value RetentionRules#SYSTEM_PREFIX}...), which no rule governs
   */
  public RetentionRule(String pattern, Limits limits) {
    this.matcher = TokenPattern.subjects(pattern);
    if (pattern.startsWith(RetentionRules.SYSTEM_PREFIX)) {
      throw new IllegalArgumentException("subjects under " + RetentionRules.SYSTEM_PREFIX
          + " are the broker's own and keep what they need; no rule applies to them");
    }
    this.pattern = pattern;
    this.limits = limits;
    String[] parts = pattern.split("\\.", -1);
    int literal = 0;
    for (String part : parts) {
      if (!part.equals("*") && !part.equals(">")) {
        literal++;
      }
    }
    this.literalTokens = literal;
    this.tokens = parts.length;
    this.endsWithRest = pattern.equals(">") || pattern.endsWith(".>");
  }

  public String pattern() {
    return pattern;
  }

  public Limits limits() {
    return limits;
  }

  boolean matches(String subject) {
    return matcher.matches(subject);
  }
}
