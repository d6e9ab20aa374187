package io.dstream.broker.stream;

/**
 * A protocol view's end of a subscription. Called on the actor's context; implementations must be
 * safe to call from there (Vert.x socket writes are).
 */
public interface Subscriber {

  /** Delivers a stored message (its bytes, not to be modified) under a delivery id that the subscriber acks with. */
  void push(long sequence, long deliveryId, byte[] stored);

  /**
   * As {@link #push(long, long, byte[])}, with what JetStream's metadata needs: how often the message
   * was sent (1 the first time), its publish time and the durable messages not yet sent after it.
   * The default drops them.
   */
  default void push(long sequence, long deliveryId, int deliveryCount, long timestampMs, long remaining,
                    byte[] stored) {
    push(sequence, deliveryId, stored);
  }

  /** This subscriber's ack rules; null for the broker's own (the v1 settings). */
  default DeliveryPolicy policy() {
    return null;
  }

  /**
   * Whether the actor may push one more message now ({@code redelivery}: an expired delivery sent
   * again). A view whose connection holds too much unsent data says no, and calls
   * {@link StreamActor#resume} once it has drained; until then the messages wait in the log. The
   * default always says yes.
   */
  default boolean mayPush(boolean redelivery) {
    return true;
  }

  /** The subscriber acked a delivery id that is not pending (already acked, redelivered, or never sent). */
  void unknownAck(long deliveryId);

  /**
   * The subject was destroyed: this subscription is gone and sequences start again at 1. Views
   * whose clients cannot follow that (they hold positions in the old log) should end the
   * subscription's connection; the default ignores it.
   */
  default void subjectDestroyed() {
  }

  /**
   * Cluster mode: another node serves the subject now, and this subscription ended. A view should
   * end the subscription's connection so that its client reconnects and resumes there; the default
   * ignores it.
   */
  default void subjectMoved() {
  }

  /** Who this is, for operators (the admin API's consumer list): a peer address, never a credential. */
  default String description() {
    return "subscriber";
  }
}
