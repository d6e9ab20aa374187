package io.dstream.pattern;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenPatternTest {

  @Test
  void literalMatchesOnlyItself() {
    TokenPattern p = TokenPattern.subjects("orders.eu");
    assertTrue(p.matches("orders.eu"));
    assertFalse(p.matches("orders.eu.paris"));
    assertFalse(p.matches("orders"));
    assertFalse(p.matches("orders.us"));
  }

  @Test
  void starMatchesExactlyOneToken() {
    TokenPattern p = TokenPattern.subjects("orders.*.paid");
    assertTrue(p.matches("orders.eu.paid"));
    assertFalse(p.matches("orders.paid"));
    assertFalse(p.matches("orders.eu.fr.paid"));
  }

  @Test
  void greaterThanMatchesOneOrMoreRemainingTokens() {
    TokenPattern p = TokenPattern.subjects("orders.>");
    assertTrue(p.matches("orders.eu"));
    assertTrue(p.matches("orders.eu.paris"));
    assertFalse(p.matches("orders"));
    assertFalse(p.matches("billing.eu"));
    assertTrue(TokenPattern.subjects(">").matches("anything.at.all"));
  }

  @Test
  void malformedPatternsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> TokenPattern.subjects(""));
    assertThrows(IllegalArgumentException.class, () -> TokenPattern.subjects("orders..eu"));
    assertThrows(IllegalArgumentException.class, () -> TokenPattern.subjects("orders.>.eu"));
    assertThrows(IllegalArgumentException.class, () -> TokenPattern.subjects("orders.e*"));
  }

  @Test
  void pathStarMatchesOneSegment() {
    TokenPattern p = TokenPattern.paths("/orders/*/events/");
    assertTrue(p.matches("orders/eu/events"));
    assertTrue(p.matches("/orders//eu/events/"));
    assertFalse(p.matches("orders/events"));
    assertFalse(p.matches("orders/eu/fr/events"));
  }

  @Test
  void pathDoubleStarMatchesZeroOrMoreSegmentsAnywhere() {
    TokenPattern p = TokenPattern.paths("orders/**/paid");
    assertTrue(p.matches("orders/paid"));
    assertTrue(p.matches("orders/eu/fr/paid"));
    assertFalse(p.matches("orders/eu/fr"));
    assertTrue(TokenPattern.paths("**").matches("any/path/at/all"));
    assertTrue(TokenPattern.paths("**").matches(""));
  }

  @Test
  void escapedStarInAPathIsALiteralStar() {
    TokenPattern p = TokenPattern.paths("a/%2A/b");
    assertTrue(p.matches("a/*/b"));
    assertFalse(p.matches("a/x/b"));
  }

  @Test
  void theTwoSyntaxesStayApart() {
    assertFalse(TokenPattern.subjects("orders.*").equals(TokenPattern.paths("orders.*")));
    assertTrue(TokenPattern.subjects("orders.*").equals(TokenPattern.subjects("orders.*")));
    assertFalse(TokenPattern.paths("orders/>").matches("orders/eu"), "> is a literal segment in paths");
  }
}
