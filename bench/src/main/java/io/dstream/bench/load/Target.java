package io.dstream.bench.load;

import org.HdrHistogram.Histogram;

/**
 * One system under test, driven the same way as the others. Every method is bounded by
 * {@code timeoutMs} and throws if it did not finish in time, or {@link NotAvailableException} if the
 * server does not offer what the scenario needs. Subjects are fresh per call.
 */
interface Target extends AutoCloseable {

  String name();

  boolean supports(Scenario scenario);

  /** Scenario 1 (and the replay preload): {@code count} publishes with at most {@code window} unacknowledged; msg/s. */
  double publish(String subject, int count, int window) throws Exception;

  /** Scenario 2: one publish at a time; the round trips in nanoseconds. */
  Histogram syncPublish(String subject, int count) throws Exception;

  /** Scenario 3: reads the {@code count} messages {@link #publish} stored, acking each; msg/s. */
  double replay(String subject, int count) throws Exception;

  /** Scenario 4: one pipelined publisher, {@code subscribers} live subscribers that ack. */
  FanOutResult fanOut(String subject, int count, int subscribers, int window) throws Exception;

  /**
   * Scenario 9: {@code count} requests, one at a time, to a service replying with the request's
   * body on {@code subject}; the round trips in nanoseconds.
   */
  default Histogram requestReply(String subject, int count) throws Exception {
    throw new UnsupportedOperationException(name() + " has no request/reply");
  }

  /**
   * Scenario 10: {@code count} pipelined publishes (at most {@code window} unacknowledged) into a
   * work queue that {@code workers} clients consume at the same time, each message acked by one of them.
   */
  default WorkQueueResult workQueue(String subject, int count, int workers, int window) throws Exception {
    throw new UnsupportedOperationException(name() + " has no work queue");
  }

  /** Scenario 5: {@code publishers} pipelined publishers, each over its share of {@code subjects}; msg/s. */
  double manySubjects(String prefix, int subjects, int publishers, int count, int window) throws Exception;

  /**
   * A cluster's node that leads {@code subject}'s stream after a run on it (the run's rate depends
   * on it), followed by how its other replicas stand (one that stopped following makes a run
   * cheaper); null for a single server.
   */
  default String leaderOf(String subject) throws Exception {
    return null;
  }

  /** Closes the clients; an interrupt is kept on the thread rather than thrown. */
  @Override
  void close();
}
