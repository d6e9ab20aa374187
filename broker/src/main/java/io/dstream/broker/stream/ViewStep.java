package io.dstream.broker.stream;

/**
 * One step of a protocol view on one subject (for example a Durable Streams append with its producer
 * check): it runs on the subject's actor, alone, sees every write queued before it, and its writes go
 * to the log together, in the next batch. The step's result is handed back once those writes are
 * durable, or at once after the earlier writes are durable if the step wrote nothing.
 */
@FunctionalInterface
public interface ViewStep<T> {

  /** Decides and queues writes; runs on the actor's context and must not block. */
  T apply(ViewTransaction transaction);
}
