package io.dstream.client.impl;

import io.dstream.client.StreamMessage;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.concurrent.atomic.AtomicBoolean;

/** A pushed frame; thread-safe, so {@link #ack()} may come from any thread, at most once on the wire. */
final class StreamMessageImpl implements StreamMessage {

  private final StreamConnectionImpl connection;
  private final JsonObject push;
  private final long sequence;
  private final AtomicBoolean acked = new AtomicBoolean();

  StreamMessageImpl(StreamConnectionImpl connection, JsonObject push, long sequence) {
    this.connection = connection;
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
    if (acked.compareAndSet(false, true)) {
      // The protocol's ack is the push itself minus the marker; a shallow copy keeps the sMsgId exactly as sent.
      JsonObject ack = new JsonObject(new LinkedHashMap<>(push.getMap()));
      ack.remove(Protocol.PUSH_MARKER);
      connection.sendAck(ack, sequence);
    }
  }

  @Override
  public String toString() {
    return "StreamMessage[sequence=" + sequence + ", acked=" + acked.get() + "]";
  }
}
