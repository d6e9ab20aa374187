package io.dstream.broker.auth;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SubjectPatternTest {

  @Test
  void literalMatchesOnlyItself() {
    SubjectPattern p = SubjectPattern.parse("orders.eu");
    assertTrue(p.matches("orders.eu"));
    assertFalse(p.matches("orders.eu.paris"));
    assertFalse(p.matches("orders"));
    assertFalse(p.matches("orders.us"));
  }

  @Test
  void starMatchesExactlyOneToken() {
    SubjectPattern p = SubjectPattern.parse("orders.*.paid");
    assertTrue(p.matches("orders.eu.paid"));
    assertFalse(p.matches("orders.paid"));
    assertFalse(p.matches("orders.eu.fr.paid"));
  }

  @Test
  void greaterThanMatchesOneOrMoreRemainingTokens() {
    SubjectPattern p = SubjectPattern.parse("orders.>");
    assertTrue(p.matches("orders.eu"));
    assertTrue(p.matches("orders.eu.paris"));
    assertFalse(p.matches("orders"));
    assertFalse(p.matches("billing.eu"));
    assertTrue(SubjectPattern.parse(">").matches("anything.at.all"));
  }

  @Test
  void malformedPatternsAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> SubjectPattern.parse(""));
    assertThrows(IllegalArgumentException.class, () -> SubjectPattern.parse("orders..eu"));
    assertThrows(IllegalArgumentException.class, () -> SubjectPattern.parse("orders.>.eu"));
    assertThrows(IllegalArgumentException.class, () -> SubjectPattern.parse("orders.e*"));
  }
}
