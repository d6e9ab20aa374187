package io.dstream.broker.store;

/**
 * Where the actors hand their {@link WriteBatch}es: the {@link GroupCommitWriter} of a single node,
 * or in cluster mode the partition's Raft log, whose entries every replica applies (docs/cluster.md).
 * Thread-safe.
 */
public interface BatchWriter {

  /**
   * Queues a batch; returns false (and keeps nothing) when the queue is full or the writer stopped.
   * Once accepted, the batch's completion runs exactly once, with the subject's record or the failure.
   */
  boolean submit(WriteBatch batch);
}
