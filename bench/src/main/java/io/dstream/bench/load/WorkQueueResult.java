package io.dstream.bench.load;

import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * Scenario 10: messages consumed and acked per second from the first publish to the last ack, the
 * publish-to-consume latency, and how many deliveries it took ({@code deliveries - messages} were
 * redeliveries; every message was consumed at least once, or there would be no result), in all and
 * per worker (how evenly the server shared the work).
 */
record WorkQueueResult(double consumedPerSecond, double p50Micros, double p99Micros, long messages, long deliveries,
                       List<Long> deliveriesPerWorker) {

  /** The deliveries per worker for the log, e.g. "33,412 / 33,300 / 33,288". */
  String sharing() {
    return deliveriesPerWorker.stream().map(n -> String.format(Locale.ROOT, "%,d", n))
        .collect(Collectors.joining(" / "));
  }
}
