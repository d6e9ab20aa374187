package io.dstream.broker.stream;

/**
 * One step of a protocol view on one subject (a v1 publish, a records POST, a Durable Streams append
 * with its producer check): it runs on the subject's actor, alone, sees every write queued before it,
 * and its writes go to the log together, in the next batch. Its result is handed back once those
 * writes (and every write queued before them) are durable; a step that wrote nothing is answered
 * once the earlier writes are durable. A step that throws writes nothing and fails with what it
 * threw ({@link StreamError} for refusals).
 */
@FunctionalInterface
public interface SubjectStep<T> {

  /** Decides and queues writes; runs on the actor's context and must not block. */
  T apply(SubjectTransaction transaction);
}
