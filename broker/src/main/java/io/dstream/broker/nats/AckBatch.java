package io.dstream.broker.nats;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * The JetStream acks one connection read in one turn, per consumer and subject: they reach each
 * subject's actor in one task (a replaying client acks every message; one hop per ack was most of a replay's
 * cost in protocol v1); in cluster mode, those for consumers other nodes run reach each such node in
 * one request. Not thread-safe: the connection's context only.
 */
final class AckBatch {

  private static final class Ids {
    long[] ids = new long[64];
    int count;
  }

  /** An ack for a consumer that another node runs (cluster mode), as the client sent it. */
  record Forwarded(String subject, String reply, byte[] payload) {
  }

  private final Map<SubjectFollower, Ids> turn = new IdentityHashMap<>();
  /** The turn's acks for consumers other nodes run, by the subject whose leader runs them. */
  private Map<String, List<Forwarded>> elsewhere;
  private JetStreamForwarding forwarding;

  void add(SubjectFollower follower, long deliveryId) {
    Ids ids = turn.computeIfAbsent(follower, c -> new Ids());
    if (ids.count == ids.ids.length) {
      ids.ids = Arrays.copyOf(ids.ids, 2 * ids.count);
    }
    ids.ids[ids.count++] = deliveryId;
  }

  /** An ack for a consumer run by the node leading {@code leaderSubject}: sent there with the turn's others. */
  void forward(JetStreamForwarding via, String leaderSubject, Forwarded ack) {
    if (elsewhere == null) {
      elsewhere = new HashMap<>();
    }
    forwarding = via;
    elsewhere.computeIfAbsent(leaderSubject, s -> new ArrayList<>()).add(ack);
  }

  /** Sends the turn's acks to their consumers' actors, and those of other nodes' consumers there. */
  void flush() {
    if (elsewhere != null && !elsewhere.isEmpty()) {
      elsewhere.forEach(forwarding::sendAcks);
      elsewhere.clear();
    }
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
