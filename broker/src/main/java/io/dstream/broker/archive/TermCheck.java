package io.dstream.broker.archive;

/**
 * Cluster mode: whether a leader's Raft term is still current, confirmed by a majority of its
 * partition's replicas now. The archive asks it when the bucket holds a manifest of a higher term
 * than the writer's: a current term proves that manifest was written by an earlier life of the
 * cluster (a cluster rebuilt on the same bucket starts its terms again at 1), not by a newer leader.
 */
@FunctionalInterface
public interface TermCheck {

  /** A single node: it never writes under a term, so it never needs to ask. */
  TermCheck SINGLE_NODE = (subject, term) -> false;

  /** True if {@code term} is the current term of {@code subject}'s leadership on this node. Blocks; not on an event loop. */
  boolean confirmed(String subject, long term) throws Exception;
}
