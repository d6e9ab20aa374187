package io.dstream.client;

import java.time.Instant;
import java.util.Objects;

/**
 * Where {@link StreamConnection#subscribe(SubscribeOptions, io.vertx.core.Handler)} starts and how
 * it acknowledges. A subscription first replays the retained messages from its start, then continues
 * with live ones, with no gap and no duplicate at the hand-over. Immutable; build one with
 * {@link #builder()} or use {@link #fromSequence(long)}, {@link #fromFirstRetained()},
 * {@link #fromNew()} or {@link #fromTime(Instant)}.
 *
 * <p>After a reconnect the subscription resumes after its last acknowledged sequence, whatever the
 * start was.
 */
public final class SubscribeOptions {

  /** Where a subscription starts. */
  public enum Start {
    /** The oldest retained message. */
    FIRST,
    /** A given sequence ({@link #startSequence()}). */
    SEQUENCE,
    /** The first message published at or after a point in time ({@link #startTime()}). */
    TIME,
    /** The first message published after the subscription is made: no replay. */
    NEW
  }

  private final Start start;
  private final long startSequence;
  private final Instant startTime;
  private final boolean autoAck;

  private SubscribeOptions(Builder builder) {
    this.start = builder.start;
    this.startSequence = builder.startSequence;
    this.startTime = builder.startTime;
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

  /** @return options that deliver only messages published from now on, with auto-ack */
  public static SubscribeOptions fromNew() {
    return builder().startNew().build();
  }

  /**
   * @param time the earliest publish time to deliver
   * @return options that start at the first message published at or after {@code time}, with auto-ack
   */
  public static SubscribeOptions fromTime(Instant time) {
    return builder().startTime(time).build();
  }

  /** @return where the subscription starts */
  public Start start() {
    return start;
  }

  /** @return true if a start sequence was set; otherwise the start is {@link #start()} */
  public boolean hasStartSequence() {
    return start == Start.SEQUENCE;
  }

  /** @return the first sequence to deliver, or 0 unless {@link #start()} is {@link Start#SEQUENCE} */
  public long startSequence() {
    return startSequence;
  }

  /** @return the earliest publish time to deliver, or null unless {@link #start()} is {@link Start#TIME} */
  public Instant startTime() {
    return startTime;
  }

  /** @return true if each message is acknowledged when the handler returns normally */
  public boolean autoAck() {
    return autoAck;
  }

  @Override
  public String toString() {
    return "SubscribeOptions[start=" + start + (start == Start.SEQUENCE ? " " + startSequence : "")
        + (start == Start.TIME ? " " + startTime : "") + ", autoAck=" + autoAck + "]";
  }

  /** Builds {@link SubscribeOptions}; not thread-safe. The last start set wins. */
  public static final class Builder {
    private Start start = Start.FIRST;
    private long startSequence;
    private Instant startTime;
    private boolean autoAck = true;

    private Builder() {
    }

    /**
     * Starts at this sequence: retained messages below it are skipped.
     *
     * @param startSequence at least 1
     * @return this builder
     */
    public Builder startSequence(long startSequence) {
      if (startSequence < 1) {
        throw new IllegalArgumentException("startSequence must be at least 1, was " + startSequence);
      }
      this.start = Start.SEQUENCE;
      this.startSequence = startSequence;
      this.startTime = null;
      return this;
    }

    /**
     * Starts at the first message published at or after {@code time} (millisecond precision); a time
     * after the newest message means: from the next one published.
     *
     * @param time the earliest publish time to deliver
     * @return this builder
     */
    public Builder startTime(Instant time) {
      this.start = Start.TIME;
      this.startTime = Objects.requireNonNull(time, "time");
      this.startSequence = 0;
      return this;
    }

    /** @return this builder, set to start after the newest message at the time of subscribing */
    public Builder startNew() {
      this.start = Start.NEW;
      this.startSequence = 0;
      this.startTime = null;
      return this;
    }

    /** @return this builder, set to start at the oldest retained message (the default) */
    public Builder startFirst() {
      this.start = Start.FIRST;
      this.startSequence = 0;
      this.startTime = null;
      return this;
    }

    /**
     * With auto-ack (the default) a message is acknowledged when the handler returns normally; a
     * handler that throws leaves it unacknowledged, so the broker redelivers it after its ack timeout
     * and the handler gets it again. Without auto-ack the handler must call {@link StreamMessage#ack()},
     * possibly later and from another thread.
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
