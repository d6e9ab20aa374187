package io.dstream.bench.load;

import java.util.Set;

/**
 * The scenarios of issue 6, the idle sockets of issue 7, the request/reply row of issue 16 and the
 * work queue of issue 18.
 */
enum Scenario {
  PUBLISH(1, "pipelined acknowledged publish, window 1000"),
  SYNC(2, "synchronous publish round trip, 1 in flight"),
  REPLAY(3, "replay of stored messages to one acking subscriber"),
  FANOUT(4, "fan-out: 1 publisher, 10 acking subscribers"),
  SUBJECTS(5, "many subjects: 10 publishers spread over the subjects"),
  /** Ours only, run apart by {@link IdleSubjects} against a broker with the heap under test. */
  IDLE(6, "idle subjects held after hibernation"),
  /** Records API (ours only) and Durable Streams protocol vs the reference server, run by {@link HttpScenario}. */
  HTTP(7, "HTTP: records API batch publish and long-poll; Durable Streams append and catch-up read"),
  /** Issue 7, ours only, run apart by {@link IdleSockets} against a broker with a short ping interval. */
  SOCKETS(8, "idle subscribed WebSockets held, broker memory per socket"),
  /** Issue 16: the NATS protocol's request/reply, ours (ephemeral service subject) vs core NATS. */
  REQUEST(9, "request/reply round trip, 1 in flight, a service on a core subscription"),
  /** Issue 18: a work-queue stream, 1 publisher, 3 pull workers sharing one durable consumer (JetStream API only). */
  WORK_QUEUE(10, "work queue: 1 publisher, 3 pull workers sharing one durable consumer");

  /** Issue 17's row: what the 3-node clusters run (pipelined and synchronous publish). */
  static final Set<Scenario> CLUSTER_ROW = Set.of(PUBLISH, SYNC);

  final int number;
  final String title;

  Scenario(int number, String title) {
    this.number = number;
    this.title = title;
  }
}
