package io.dstream.broker.stream;

/**
 * How one subscriber's deliveries are acknowledged: its ack window, how long a delivery may stay
 * unacknowledged before it is sent again, how often a message is sent at most, and what an ack
 * means. Protocol v1 subscribers all get the broker's settings; a JetStream consumer brings its own.
 *
 * @param window     the most unacknowledged deliveries at once ({@code max_ack_pending})
 * @param ackWaitMs  a delivery not acknowledged within this is sent again
 * @param maxDeliver after this many deliveries a message is skipped for this subscriber
 * @param mode       what an ack acknowledges
 * @param removesAcked a work queue's consumer: what it acknowledged leaves the subject (up to its
 *                   ack floor, at the actor's next tick; see {@link Deliveries#removableUpTo})
 */
public record DeliveryPolicy(int window, long ackWaitMs, int maxDeliver, AckMode mode, boolean removesAcked) {

  /** JetStream's ack policies. */
  public enum AckMode {
    /** Each delivery is acknowledged on its own (protocol v1, JetStream {@code explicit}). */
    EXPLICIT,
    /** An ack acknowledges its delivery and every earlier one ({@code all}). */
    ALL,
    /** Nothing is acknowledged: a delivery is done once sent ({@code none}). */
    NONE
  }

  /** A policy that leaves acknowledged messages in the subject. */
  public DeliveryPolicy(int window, long ackWaitMs, int maxDeliver, AckMode mode) {
    this(window, ackWaitMs, maxDeliver, mode, false);
  }

  public DeliveryPolicy {
    if (window <= 0 || ackWaitMs <= 0 || maxDeliver <= 0 || mode == null) {
      throw new IllegalArgumentException("a delivery policy needs a window, ack wait and max deliver > 0");
    }
  }
}
