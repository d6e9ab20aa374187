package io.dstream.broker.stream;

import java.util.List;

/**
 * Where one subscriber is on its subject, enough to resume it elsewhere (a durable JetStream
 * consumer after a restart): the next sequence never sent, and every sent message not yet
 * acknowledged with how often it was sent. Immutable.
 *
 * @param nextSequence   the next sequence never delivered
 * @param unacknowledged sent and not acknowledged: pairs of sequence and delivery count, in sequence order
 * @param pending        of those, deliveries awaiting an ack now (the rest wait to be sent again)
 * @param redelivered    deliveries sent again since it subscribed
 * @param lastSequence   the subject's last durable sequence
 */
public record ConsumerState(long nextSequence, List<long[]> unacknowledged, int pending, long redelivered,
                            long lastSequence) {

  public ConsumerState {
    unacknowledged = List.copyOf(unacknowledged);
  }

  /** Every sequence below this one is acknowledged. */
  public long firstUnacknowledged() {
    return unacknowledged.isEmpty() ? nextSequence : Math.min(nextSequence, unacknowledged.get(0)[0]);
  }

  /** Durable messages never sent to it. */
  public long lag() {
    return Math.max(0, lastSequence - nextSequence + 1);
  }
}
