package io.dstream.client.impl;

import io.dstream.client.StreamMessage;
import io.vertx.core.json.JsonObject;

/** A pushed frame; thread-safe, so {@link #ack()} may come from any thread, at most once on the wire. */
final class StreamMessageImpl implements StreamMessage {

  private final SubscriptionImpl subscription;
  private final JsonObject push;
  private final long sequence;

  StreamMessageImpl(SubscriptionImpl subscription, JsonObject push, long sequence) {
    this.subscription = subscription;
    this.push = push;
    this.sequence = sequence;
  }

  @Override
  public long sequence() {
    return sequence;
  }

  @Override
  public Object data() {
    return push.getValue(Protocol.DATA);
  }

  @Override
  public JsonObject json() {
    JsonObject record = push.copy();
    record.remove(Protocol.PUSH_MARKER);
    record.remove(Protocol.SERVER_MESSAGE_ID);
    return record;
  }

  @Override
  public void ack() {
    subscription.ack(sequence);
  }

  @Override
  public String toString() {
    return "StreamMessage[sequence=" + sequence + "]";
  }
}
