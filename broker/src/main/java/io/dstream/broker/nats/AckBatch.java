package io.dstream.broker.nats;

import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;

/**
 * The JetStream acks one connection read in one turn, per consumer and subject: they reach each
 * subject's actor in one task (a replaying client acks every message; one hop per ack was most of a replay's
 * cost in protocol v1). Not thread-safe: the connection's context only.
 */
final class AckBatch {

  private static final class Ids {
    long[] ids = new long[64];
    int count;
  }

  private final Map<SubjectFollower, Ids> turn = new IdentityHashMap<>();

  void add(SubjectFollower follower, long deliveryId) {
    Ids ids = turn.computeIfAbsent(follower, c -> new Ids());
    if (ids.count == ids.ids.length) {
      ids.ids = Arrays.copyOf(ids.ids, 2 * ids.count);
    }
    ids.ids[ids.count++] = deliveryId;
  }

  /** Sends the turn's acks to their consumers' actors. */
  void flush() {
    if (turn.isEmpty()) {
      return;
    }
    turn.forEach((follower, ids) -> {
      if (follower.actor() != null) {
        follower.actor().ack(follower, Arrays.copyOf(ids.ids, ids.count));
        follower.consumer.changed();
      }
    });
    turn.clear();
  }
}
