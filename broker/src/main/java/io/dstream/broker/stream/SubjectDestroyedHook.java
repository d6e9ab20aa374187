package io.dstream.broker.stream;

import io.vertx.core.Future;

/**
 * What else must go when a subject is destroyed, beyond its log and state (for example its
 * checkpoints in the bucket). Called after the removal from the log is durable; the destroy is
 * answered when the returned future completes.
 */
@FunctionalInterface
public interface SubjectDestroyedHook {

  /** Nothing beyond the log. */
  SubjectDestroyedHook NONE = subject -> Future.succeededFuture();

  Future<Void> subjectDestroyed(String subject);
}
