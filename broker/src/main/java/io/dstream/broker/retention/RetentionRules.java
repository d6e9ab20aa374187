package io.dstream.broker.retention;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.List;

/**
 * The broker's whole rule set at one moment: the broker-wide default and the rules by pattern, in
 * precedence order ({@link RetentionRule#MOST_SPECIFIC_FIRST}). A subject's limits are those of
 * the first rule that matches it, else the default; system subjects ({@value #SYSTEM_PREFIX}...)
 * have none. Immutable: a change makes a new set, so an actor can tell by identity that its
 * cached limits are stale.
 *
 * <p>Stored form (the last message of {@link Retention#SUBJECT}): {@code {"rules":[{"pattern",
 * "maxAgeMs","maxMessages","maxBytes","maxMessageSize","discard"}]}}. The default is not stored:
 * it comes from the broker's configuration at each start.
 */
public final class RetentionRules {

  /** Subjects the broker keeps for itself (consumer state, stream declarations, these rules). */
  public static final String SYSTEM_PREFIX = "$DS.";

  private final Limits defaults;
  private final List<RetentionRule> rules;

  private RetentionRules(Limits defaults, List<RetentionRule> rules) {
    List<RetentionRule> sorted = new ArrayList<>(rules);
    sorted.sort(RetentionRule.MOST_SPECIFIC_FIRST);
    this.defaults = defaults;
    this.rules = List.copyOf(sorted);
  }

  /** Only the default. */
  public static RetentionRules of(Limits defaults) {
    return new RetentionRules(defaults, List.of());
  }

  public Limits defaults() {
    return defaults;
  }

  /** The rules, most specific first. */
  public List<RetentionRule> rules() {
    return rules;
  }

  /** The rule with exactly this pattern, or null. */
  public RetentionRule rule(String pattern) {
    for (RetentionRule rule : rules) {
      if (rule.pattern().equals(pattern)) {
        return rule;
      }
    }
    return null;
  }

  /** The limits of {@code subject} and the rule they come from. */
  public EffectiveLimits effective(String subject) {
    if (subject.startsWith(SYSTEM_PREFIX)) {
      return EffectiveLimits.SYSTEM;
    }
    for (RetentionRule rule : rules) {
      if (rule.matches(subject)) {
        return new EffectiveLimits(rule.limits(), rule.pattern());
      }
    }
    return new EffectiveLimits(defaults, null);
  }

  /** True when some subject may have old messages to delete, so the sweeper has work to look for. */
  public boolean trimsOld() {
    return defaults.trimsOld() || rules.stream().anyMatch(rule -> rule.limits().trimsOld());
  }

  /** This set with {@code rule} added, replacing the one with the same pattern. */
  public RetentionRules with(RetentionRule rule) {
    List<RetentionRule> next = new ArrayList<>(rules);
    next.removeIf(existing -> existing.pattern().equals(rule.pattern()));
    next.add(rule);
    return new RetentionRules(defaults, next);
  }

  /** This set without the rule of {@code pattern} (the same set if there is none). */
  public RetentionRules without(String pattern) {
    List<RetentionRule> next = new ArrayList<>(rules);
    return next.removeIf(existing -> existing.pattern().equals(pattern)) ? new RetentionRules(defaults, next) : this;
  }

  /** The rules as stored and as the admin API lists them. */
  public JsonArray rulesJson() {
    JsonArray list = new JsonArray();
    rules.forEach(rule -> list.add(new JsonObject().put("pattern", rule.pattern()).mergeIn(rule.limits().toJson())));
    return list;
  }

  /** The stored form, without the default. */
  byte[] encode() {
    return new JsonObject().put("rules", rulesJson()).toBuffer().getBytes();
  }

  /** The stored rules under {@code defaults}. */
  static RetentionRules decode(Limits defaults, JsonObject stored) {
    JsonArray list = stored.getJsonArray("rules", new JsonArray());
    List<RetentionRule> rules = new ArrayList<>();
    for (int i = 0; i < list.size(); i++) {
      JsonObject rule = list.getJsonObject(i).copy();
      String pattern = (String) rule.remove("pattern");
      rules.add(new RetentionRule(pattern, Limits.fromJson(rule)));
    }
    return new RetentionRules(defaults, rules);
  }
}
