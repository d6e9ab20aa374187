package io.dstream.broker.limits;

import io.vertx.core.Vertx;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches a broker process from outside while it is attacked: every 250 ms it asks {@code /health}
 * (which must answer 200 within 2 s) and reads the JVM heap and the memory budget from
 * {@code /metrics}, keeping the largest values seen. Its callbacks run on one event loop.
 */
final class BrokerMonitor implements AutoCloseable {

  private final Vertx vertx;
  private final WebClient http;
  private final int port;
  private final String apiKey;
  private final long timer;
  final AtomicInteger healthChecks = new AtomicInteger();
  final AtomicInteger healthFailures = new AtomicInteger();
  final AtomicLong maxHeapBytes = new AtomicLong();
  final AtomicLong maxHeldBytes = new AtomicLong();
  volatile double budgetLimitBytes;

  BrokerMonitor(Vertx vertx, int port, String apiKey) {
    this.vertx = vertx;
    this.port = port;
    this.apiKey = apiKey;
    this.http = WebClient.create(vertx, new WebClientOptions().setIdleTimeout(10));
    this.timer = vertx.setPeriodic(250, id -> poll());
  }

  private void poll() {
    http.get(port, "127.0.0.1", "/health").timeout(2_000).send().onComplete(ar -> {
      healthChecks.incrementAndGet();
      if (ar.failed() || ar.result().statusCode() != 200) {
        healthFailures.incrementAndGet();
      }
    });
    http.get(port, "127.0.0.1", "/metrics").putHeader("auth", apiKey).timeout(5_000).send().onSuccess(response -> {
      String text = response.bodyAsString();
      maxHeapBytes.accumulateAndGet((long) sum(text, "jvm_memory_used_bytes{area=\"heap\""), Math::max);
      maxHeldBytes.accumulateAndGet((long) sum(text, "dstream_memory_budget_held_bytes"), Math::max);
      budgetLimitBytes = sum(text, "dstream_memory_budget_limit_bytes");
    });
  }

  /** A metric from a scrape, summed over its series. */
  private static double sum(String scrape, String prefix) {
    double total = 0;
    for (String line : scrape.split("\n")) {
      if (line.startsWith(prefix)) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return total;
  }

  /** The current value of a series, read once. */
  double read(String series) {
    return sum(http.get(port, "127.0.0.1", "/metrics").putHeader("auth", apiKey).send().await().bodyAsString(), series);
  }

  @Override
  public void close() {
    vertx.cancelTimer(timer);
    http.close();
  }
}
