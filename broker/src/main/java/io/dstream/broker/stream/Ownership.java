package io.dstream.broker.stream;

/**
 * Whether this broker may run a subject's actor now. A single node always may; in cluster mode only
 * the ready leader of the subject's partition may (docs/cluster.md), and an actor created under one
 * term of leadership is deposed as soon as that term ends, even if the node leads again later: the
 * store may have changed in between.
 */
public interface Ownership {

  /** A single node: every subject, forever, under one term. */
  Ownership SINGLE_NODE = new Ownership() {
    @Override
    public long term(String subject) {
      return 0;
    }

    @Override
    public StreamError notOwned(String subject) {
      throw new IllegalStateException("a single node owns every subject");
    }
  };

  /** The term under which this broker may run the subject's actor, or -1 if it may not. Any thread; cheap. */
  long term(String subject);

  /** The refusal of a request for a subject this broker may not serve now. */
  StreamError notOwned(String subject);
}
