package io.dstream.client;

/**
 * Where {@link StreamConnection#subscribe(SubscribeOptions, io.vertx.core.Handler)} starts and how
 * it acknowledges. A subscription first replays the retained messages from its start, then continues
 * with live ones, with no gap and no duplicate at the hand-over. Immutable; build one with
 * {@link #builder()} or use {@link #fromSequence(long)} / {@link #fromFirstRetained()}.
 */
public final class SubscribeOptions {

  private static final long FIRST_RETAINED = 0;

  private final long startSequence;
  private final boolean autoAck;

  private SubscribeOptions(Builder builder) {
    this.startSequence = builder.startSequence;
    this.autoAck = builder.autoAck;
  }

  /** @return a builder starting at the first retained message, with auto-ack */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * @param startSequence the first sequence to deliver, at least 1
   * @return options that start at {@code startSequence}, with auto-ack
   */
  public static SubscribeOptions fromSequence(long startSequence) {
    return builder().startSequence(startSequence).build();
  }

  /** @return options that start at the first retained message, with auto-ack */
  public static SubscribeOptions fromFirstRetained() {
    return builder().build();
  }

  /** @return true if a start sequence was set; otherwise the broker starts at the first retained message */
  public boolean hasStartSequence() {
    return startSequence != FIRST_RETAINED;
  }

  /** @return the first sequence to deliver, or 0 if {@link #hasStartSequence()} is false */
  public long startSequence() {
    return startSequence;
  }

  /** @return true if each message is acknowledged when the handler returns normally */
  public boolean autoAck() {
    return autoAck;
  }

  @Override
  public String toString() {
    return "SubscribeOptions[startSequence=" + startSequence + ", autoAck=" + autoAck + "]";
  }

  /** Builds {@link SubscribeOptions}; not thread-safe. */
  public static final class Builder {
    private long startSequence = FIRST_RETAINED;
    private boolean autoAck = true;

    private Builder() {
    }

    /**
     * Starts at this sequence: retained messages below it are skipped. To receive only messages
     * published from now on, start after {@link StreamInfo#lastSequence()}.
     *
     * @param startSequence at least 1
     * @return this builder
     */
    public Builder startSequence(long startSequence) {
      if (startSequence < 1) {
        throw new IllegalArgumentException("startSequence must be at least 1, was " + startSequence);
      }
      this.startSequence = startSequence;
      return this;
    }

    /**
     * With auto-ack (the default) a message is acknowledged when the handler returns normally; a
     * handler that throws leaves it unacknowledged, so the broker redelivers it after its ack timeout.
     * Without auto-ack the handler must call {@link StreamMessage#ack()}, possibly later and from another thread.
     *
     * @param autoAck whether to acknowledge automatically
     * @return this builder
     */
    public Builder autoAck(boolean autoAck) {
      this.autoAck = autoAck;
      return this;
    }

    /** @return the options */
    public SubscribeOptions build() {
      return new SubscribeOptions(this);
    }
  }
}
