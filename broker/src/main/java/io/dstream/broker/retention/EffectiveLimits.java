package io.dstream.broker.retention;

/**
 * The limits that apply to one subject and where they come from: {@code rule} is the pattern of the
 * rule that won ({@link RetentionRule}), or null for the broker-wide default. Immutable.
 */
public record EffectiveLimits(Limits limits, String rule) {

  /** What a system subject ({@value RetentionRules#SYSTEM_PREFIX}...) has: no limit, from no rule. */
  static final EffectiveLimits SYSTEM = new EffectiveLimits(Limits.UNLIMITED, null);

  /** How an error names the source: {@code rule 'orders.>'} or {@code broker default}. */
  public String source() {
    return rule == null ? "broker default" : "rule '" + rule + "'";
  }

  /**
   * Why a message of {@code size} bytes may not join a subject that would then hold
   * {@code messages} messages and {@code bytes} payload bytes; null when it may.
   */
  public Refusal refusal(String subject, long messages, long bytes, long size) {
    if (limits.maxMessageSize() > 0 && size > limits.maxMessageSize()) {
      return new Refusal(Refusal.Reason.MESSAGE_SIZE, "message of " + size + " bytes exceeds the limit of "
          + limits.maxMessageSize() + " bytes per message on subject '" + subject + "' (" + source() + ")");
    }
    if (limits.discard() != Discard.NEW) {
      return null;
    }
    if (limits.maxMessages() > 0 && messages > limits.maxMessages()) {
      return new Refusal(Refusal.Reason.MESSAGES, "subject '" + subject + "' is at its limit of "
          + limits.maxMessages() + " messages (" + source() + ", discard new)");
    }
    if (limits.maxBytes() > 0 && bytes > limits.maxBytes()) {
      return new Refusal(Refusal.Reason.BYTES, "subject '" + subject + "' is at its limit of "
          + limits.maxBytes() + " bytes (" + source() + ", discard new)");
    }
    return null;
  }

  /** A publish the limits refuse: which bound and the message naming it, its value and its rule. */
  public record Refusal(Reason reason, String message) {
    /** The bound that refused. */
    public enum Reason { MESSAGE_SIZE, MESSAGES, BYTES }
  }
}
