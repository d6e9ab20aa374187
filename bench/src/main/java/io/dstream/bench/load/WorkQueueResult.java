package io.dstream.bench.load;

/**
 * Scenario 10: messages consumed and acked per second from the first publish to the last ack, the
 * publish-to-consume latency, and how many deliveries it took ({@code deliveries - messages} were
 * redeliveries; every message was consumed at least once, or there would be no result).
 */
record WorkQueueResult(double consumedPerSecond, double p50Micros, double p99Micros, long messages, long deliveries) {
}
