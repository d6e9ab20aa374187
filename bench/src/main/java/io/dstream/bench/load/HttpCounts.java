package io.dstream.bench.load;

/**
 * How much scenario 7 does. Records travel {@code perPost} to a POST (records API and the batched
 * Durable Streams append), single Durable Streams appends one 128-byte message per POST. The
 * reference server fsyncs each single append in turn (tens of ms each on a loaded VM), hence the
 * smaller count there, within the run's time bound. The catch-up read reads the batched stream
 * {@code readPasses} times.
 */
record HttpCounts(int records, int perPost, int postsInFlight, int appends, int appendsInFlight, int readPasses) {

  static final HttpCounts FULL = new HttpCounts(100_000, 100, 4, 2_000, 32, 5);
  static final HttpCounts QUICK = new HttpCounts(1_000, 100, 4, 100, 32, 1);
}
