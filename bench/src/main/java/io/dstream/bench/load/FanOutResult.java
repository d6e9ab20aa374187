package io.dstream.bench.load;

/** Deliveries per second summed over all subscribers, and the publish-to-delivery latency. */
record FanOutResult(double deliveredPerSecond, double p99Micros, long delivered, long expected) {
}
