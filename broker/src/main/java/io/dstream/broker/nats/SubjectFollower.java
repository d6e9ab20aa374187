package io.dstream.broker.nats;

import io.dstream.broker.stream.DeliveryPolicy;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.Subscriber;

/**
 * A JetStream consumer's subscription on one subject: a subscriber of that subject's actor, whose
 * {@link io.dstream.broker.stream.Deliveries} run the consumer's ack window, ack wait and
 * redeliveries on that subject with the consumer's {@link DeliveryPolicy}. A consumer of a literal
 * stream has one; a consumer of a wildcard stream one per subject it follows now
 * ({@link WildcardFollowers}).
 *
 * <p>Its deliveries' reply subject is the JetStream ack subject, which clients parse for the
 * metadata and ack on. A literal stream's is nats-server's short form,
 * {@code $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<delivery id>.<ts>.<pending>}; a
 * wildcard stream's is the long form with this follower's {@link #slot} where nats-server puts the
 * account hash, {@code $JS.ACK._.<slot>.<stream>.<consumer>.<delivered>.<seq>.<delivery id>.<ts>.<pending>.0},
 * so an ack finds its subject (delivery ids are only unique per subject). Clients read both forms.
 *
 * <p>Threading: {@link #push} and {@link #mayPush} run on the subject actor's context; the rest is
 * safe from any thread.
 */
final class SubjectFollower implements Subscriber {

  /** The slot of a literal stream's one follower: its acks carry none. */
  static final long NO_SLOT = -1;

  final JsConsumer consumer;
  final String subject;
  final long slot;
  private final String ackPrefix;
  private final String ackSuffix;
  private volatile StreamActor actor;
  /** Where it starts on its subject, for the saved state until it is subscribed there. */
  volatile long startAt = 1;
  /** Whether it pushed since the last {@link #takePushed} (a busy subject is not let go). */
  private volatile boolean pushed;

  SubjectFollower(JsConsumer consumer, String subject, long slot) {
    this.consumer = consumer;
    this.subject = subject;
    this.slot = slot;
    String names = consumer.stream + "." + consumer.name() + ".";
    this.ackPrefix = JetStreamConsumers.ACK_PREFIX + (slot == NO_SLOT ? names : "_." + slot + "." + names);
    this.ackSuffix = slot == NO_SLOT ? "" : ".0";
  }

  /** The subject's actor, held while it follows the subject (null until attached). */
  StreamActor actor() {
    return actor;
  }

  void attached(StreamActor held) {
    actor = held;
  }

  boolean takePushed() {
    boolean was = pushed;
    pushed = false;
    return was;
  }

  @Override
  public DeliveryPolicy policy() {
    return consumer.config.policy();
  }

  @Override
  public String description() {
    return "jetstream consumer " + consumer.stream + "/" + consumer.name();
  }

  @Override
  public boolean mayPush(boolean redelivery) {
    return consumer.mayPush(this);
  }

  @Override
  public void push(long sequence, long deliveryId, byte[] stored) {
    push(sequence, deliveryId, 1, 0, 0, stored);
  }

  @Override
  public void push(long sequence, long deliveryId, int deliveryCount, long timestampMs, long remaining,
                   byte[] stored) {
    pushed = true;
    String ack = ackPrefix + deliveryCount + "." + sequence + "." + deliveryId + "." + timestampMs * 1_000_000L
        + "." + remaining + ackSuffix;
    consumer.deliver(this, deliveryId, ack, stored);
  }

  @Override
  public void unknownAck(long deliveryId) {
    // A late ack of a delivery already sent again, or of one from before a restart: JetStream ignores those too.
  }
}
