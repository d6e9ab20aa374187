package io.dstream.bench.load;

/** The scenarios of issue 6 (7, the HTTP views, is not built yet) and the idle sockets of issue 7. */
enum Scenario {
  PUBLISH(1, "pipelined acknowledged publish, window 1000"),
  SYNC(2, "synchronous publish round trip, 1 in flight"),
  REPLAY(3, "replay of stored messages to one acking subscriber"),
  FANOUT(4, "fan-out: 1 publisher, 10 acking subscribers"),
  SUBJECTS(5, "many subjects: 10 publishers spread over the subjects"),
  /** Ours only, run apart by {@link IdleSubjects} against a broker with the heap under test. */
  IDLE(6, "idle subjects held after hibernation"),
  /** Issue 7, ours only, run apart by {@link IdleSockets} against a broker with a short ping interval. */
  SOCKETS(8, "idle subscribed WebSockets held, broker memory per socket");

  final int number;
  final String title;

  Scenario(int number, String title) {
    this.number = number;
    this.title = title;
  }
}
