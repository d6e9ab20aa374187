package io.dstream.broker.ws;

import io.dstream.broker.stream.StreamActor;
import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * The acks and publishes a socket read in one event-loop turn (one read from the socket), on their
 * way to its actor. Acks go together: one hop instead of one per ack, and the window refills in one
 * pump whose pushes leave in one flush. Publishes go as one task too, so their writes share a batch.
 * A frame of another kind flushes the ones queued before it, so the actor sees every frame in the
 * order the client sent it.
 *
 * <p>Threading: the socket's context only.
 */
final class TurnBatch {

  private final V1Session session;
  private final Context context;
  private final StreamActor actor;
  private long[] acks = new long[64];
  private int ackCount;
  private List<StreamActor.Call<?>> publishes = new ArrayList<>();

  TurnBatch(V1Session session, Context context, StreamActor actor) {
    this.session = session;
    this.context = context;
    this.actor = actor;
  }

  void ack(long deliveryId) {
    flushPublishes();
    if (ackCount == 0) {
      context.runOnContext(v -> flushAcks());
    }
    if (ackCount == acks.length) {
      acks = Arrays.copyOf(acks, 2 * acks.length);
    }
    acks[ackCount++] = deliveryId;
  }

  /** Queues the publish {@code frame} (see {@link V1Session#publish}), {@code reserved} bytes held for it. */
  void publish(V1Frame frame, long reserved) {
    flushAcks();
    if (publishes.isEmpty()) {
      context.runOnContext(v -> flushPublishes());
    }
    publishes.add(session.publish(frame, reserved));
  }

  /** Sends what the turn queued so far, ahead of a frame of another kind (a command). */
  void flush() {
    flushAcks();
    flushPublishes();
  }

  private void flushAcks() {
    if (ackCount > 0) {
      long[] deliveryIds = Arrays.copyOf(acks, ackCount);
      ackCount = 0;
      actor.ack(session, deliveryIds);
    }
  }

  private void flushPublishes() {
    if (!publishes.isEmpty()) {
      List<StreamActor.Call<?>> calls = publishes;
      publishes = new ArrayList<>();
      actor.call(calls);
    }
  }
}
