package io.dstream.broker.config;

import io.dstream.broker.retention.Limits;

import java.time.Duration;

/**
 * Retention limits (docs/consumers-and-retention.md): the broker-wide default, which applies to
 * every subject no rule matches, the bounds of the sweeper that deletes what limits expire, and in
 * cluster mode how often a node checks for rules changed through another one.
 *
 * @param defaults         limits of subjects no rule matches; {@link Limits#UNLIMITED} keeps everything
 * @param sweepInterval    pause between two sweeper ticks
 * @param subjectsPerTick  subjects (records read from the store) one tick examines at most
 * @param deletionsPerTick messages one tick deletes at most, over all subjects
 * @param maxRules         rules the broker keeps at most; more are refused
 * @param refreshInterval  cluster mode: pause between two checks for a rule set changed through another node
 */
public record RetentionSettings(Limits defaults, Duration sweepInterval, int subjectsPerTick, int deletionsPerTick,
                                int maxRules, Duration refreshInterval) {

  public static final RetentionSettings DEFAULT = new RetentionSettings(Limits.UNLIMITED, Duration.ofSeconds(1),
      1000, 10_000, 1000, Duration.ofSeconds(1));

  public RetentionSettings {
    if (defaults == null) {
      throw new IllegalArgumentException("retention defaults must be given (Limits.UNLIMITED for none)");
    }
    if (sweepInterval == null || sweepInterval.isZero() || sweepInterval.isNegative()) {
      throw new IllegalArgumentException("the retention sweep interval must be a positive duration");
    }
    if (refreshInterval == null || refreshInterval.isZero() || refreshInterval.isNegative()) {
      throw new IllegalArgumentException("the retention refresh interval must be a positive duration");
    }
    if (subjectsPerTick <= 0 || deletionsPerTick <= 0 || maxRules <= 0) {
      throw new IllegalArgumentException("retention sweep bounds and the rule bound must be > 0");
    }
  }
}
