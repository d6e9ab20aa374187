package io.dstream.bench.load;

/** A system with HTTP views for scenario 7: our brokers and the Durable Streams reference server. */
interface HttpTarget {

  String name();

  HttpLoad http();

  /** The records API ({@code /stream/{subject}}) is ours only; the Durable Streams protocol is on every one. */
  boolean hasRecordsApi();
}
