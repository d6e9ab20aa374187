package io.dstream.broker.retention;

import io.dstream.broker.config.RetentionSettings;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Which rule a subject gets, as docs/consumers-and-retention.md states the precedence. */
class RetentionRulesTest {

  private static final Limits DEFAULT = new Limits(0, 100, 0, 0, Discard.OLD);

  @Test
  void theMostSpecificMatchingRuleWinsAndSystemSubjectsHaveNone() {
    RetentionRules rules = RetentionRules.of(DEFAULT)
        .with(new RetentionRule(">", limit(1)))
        .with(new RetentionRule("orders.>", limit(2)))
        .with(new RetentionRule("orders.*", limit(3)))
        .with(new RetentionRule("orders.*.paris", limit(4)))
        .with(new RetentionRule("orders.eu", limit(5)));
    assertEquals("orders.eu", rules.effective("orders.eu").rule(), "the subject itself beats every wildcard");
    assertEquals("orders.*", rules.effective("orders.us").rule(), "* beats > at the same literal count");
    assertEquals("orders.*.paris", rules.effective("orders.fr.paris").rule(), "more literal tokens win");
    assertEquals("orders.>", rules.effective("orders.fr.lyon").rule());
    assertEquals(">", rules.effective("billing").rule());
    assertEquals(Limits.UNLIMITED, rules.effective("$DS.JS.C.ORDERS").limits(), "system subjects are never limited");
    assertNull(rules.effective("$DS.RETENTION").rule());

    RetentionRules fewer = rules.without(">");
    assertNull(fewer.effective("billing").rule());
    assertEquals(DEFAULT, fewer.effective("billing").limits(), "no rule: the broker-wide default");
  }

  @Test
  void aRuleReplacesTheOneWithTheSamePatternAndBadPatternsAreRefused() {
    RetentionRules rules = RetentionRules.of(Limits.UNLIMITED).with(new RetentionRule("a.>", limit(1)))
        .with(new RetentionRule("a.>", limit(2)));
    assertEquals(1, rules.rules().size());
    assertEquals(2, rules.effective("a.b").limits().maxMessages());
    assertThrows(IllegalArgumentException.class, () -> new RetentionRule("a.>.b", limit(1)));
    assertThrows(IllegalArgumentException.class, () -> new RetentionRule("$DS.>", limit(1)));
  }

  private static Limits limit(long messages) {
    return new Limits(0, messages, 0, 0, Discard.OLD);
  }

  @Test
  void aClusterRefreshIntervalThatIsNotPositiveIsRefused() {
    for (Duration interval : new Duration[] {Duration.ZERO, Duration.ofMillis(-1), null}) {
      IllegalArgumentException refused = assertThrows(IllegalArgumentException.class, () -> new RetentionSettings(
          Limits.UNLIMITED, Duration.ofSeconds(1), 1000, 10_000, 1000, interval), "refresh interval " + interval);
      assertEquals("the retention refresh interval must be a positive duration", refused.getMessage());
    }
  }
}
