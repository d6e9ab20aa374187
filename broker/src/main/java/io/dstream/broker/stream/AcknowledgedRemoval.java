package io.dstream.broker.stream;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.function.BiConsumer;

/**
 * A work queue's acknowledged messages leaving the subject: one removal up to the consumers' lowest
 * ack floor per tick at most (the store deletes prefixes), so a busy queue costs one store write a
 * tick, not one per ack. A destroy resets the mark with the sequences. Confined to the actor's context.
 */
final class AcknowledgedRemoval {

  private static final Logger LOG = LoggerFactory.getLogger(AcknowledgedRemoval.class);

  private final String subject;
  /** The highest sequence a removal was queued up to. */
  private long removingUpTo;

  AcknowledgedRemoval(String subject) {
    this.subject = subject;
  }

  /** At the actor's tick: queues the removal up to {@code removableUpTo} through {@code run}, if it moved. */
  void tick(long removableUpTo, long firstSequence, BiConsumer<SubjectStep<Long>, BiConsumer<Long, Throwable>> run) {
    long upTo = removableUpTo;
    if (upTo < firstSequence || upTo <= removingUpTo) {
      return;
    }
    removingUpTo = upTo;
    run.accept(tx -> {
      tx.deleteUpTo(upTo);
      return upTo;
    }, (done, failure) -> {
      if (failure != null) {
        removingUpTo = 0;
        LOG.warn("subject '{}': removing acknowledged messages up to {} failed ({}); retried at the next tick",
            subject, upTo, failure.toString());
      }
    });
  }

  /** The subject was destroyed: its sequences start again at 1. */
  void reset() {
    removingUpTo = 0;
  }
}
