package io.dstream.bench.load;

/**
 * How much each scenario does. {@link #FULL} is the run; {@link #QUICK} only proves the harness
 * still works end to end (its numbers mean nothing).
 */
record Counts(int publish, int window, int sync, int replay, int fanOut, int subscribers, int subjectMessages,
              int subjects, int publishers, int requests, int workQueue, int workers) {

  static final Counts FULL = new Counts(200_000, 1000, 10_000, 1_000_000, 100_000, 10, 200_000, 1000, 10, 10_000,
      100_000, 3);
  static final Counts QUICK = new Counts(2_000, 1000, 200, 5_000, 1_000, 10, 2_000, 50, 10, 200, 2_000, 3);
}
