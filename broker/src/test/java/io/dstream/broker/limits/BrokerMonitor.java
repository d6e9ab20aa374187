package io.dstream.broker.limits;

import io.vertx.core.Vertx;
import io.vertx.core.http.PoolOptions;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Watches a broker process from outside while it is attacked: it asks {@code /health} (which must
 * answer 200 within 5 s on this shared 2-core machine; {@link #healthChecks} shows that the checks
 * went on), then reads the JVM heap and the memory budget from {@code /metrics}, keeping the largest
 * values seen, and starts again 250 ms later: one request at a time, so a slow answer is never hidden
 * behind a queue in the client. Its callbacks run on one event loop.
 */
final class BrokerMonitor implements AutoCloseable {

  private final Vertx vertx;
  private final WebClient http;
  private final WebClient reader;
  private final int port;
  private final String apiKey;
  private static final long HEALTH_DEADLINE_NANOS = 5_000_000_000L;
  private volatile boolean closed;
  final AtomicInteger healthChecks = new AtomicInteger();
  final AtomicInteger healthFailures = new AtomicInteger();
  final AtomicInteger metricsFailures = new AtomicInteger();
  final AtomicLong maxHealthMillis = new AtomicLong();
  final AtomicLong maxHeapBytes = new AtomicLong();
  final AtomicLong maxHeldBytes = new AtomicLong();
  volatile double budgetLimitBytes;

  BrokerMonitor(Vertx vertx, int port, String apiKey) {
    this.vertx = vertx;
    this.port = port;
    this.apiKey = apiKey;
    this.http = WebClient.create(vertx, new WebClientOptions(), new PoolOptions().setHttp1MaxSize(1));
    this.reader = WebClient.create(vertx);
    vertx.setTimer(250, id -> poll());
  }

  /**
   * The deadline of a health check is measured rather than set as a request timeout: a Vert.x 5.1
   * client whose timeout fires after the answer logs an error for nothing.
   */
  private void poll() {
    if (closed) {
      return;
    }
    long start = System.nanoTime();
    http.get(port, "127.0.0.1", "/health").send().onComplete(health -> {
      long elapsed = System.nanoTime() - start;
      healthChecks.incrementAndGet();
      maxHealthMillis.accumulateAndGet(elapsed / 1_000_000, Math::max);
      if (health.failed() || health.result().statusCode() != 200 || elapsed > HEALTH_DEADLINE_NANOS) {
        healthFailures.incrementAndGet();
      }
    }).compose(health -> http.get(port, "127.0.0.1", "/metrics").putHeader("auth", apiKey).send()).onSuccess(response -> {
      String text = response.bodyAsString();
      maxHeapBytes.accumulateAndGet((long) sum(text, "jvm_memory_used_bytes{area=\"heap\""), Math::max);
      maxHeldBytes.accumulateAndGet((long) sum(text, "dstream_memory_budget_held_bytes"), Math::max);
      budgetLimitBytes = sum(text, "dstream_memory_budget_limit_bytes");
    }).onFailure(failure -> metricsFailures.incrementAndGet()).onComplete(done -> {
      if (!closed) {
        vertx.setTimer(250, id -> poll());
      }
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

  /** The current value of a series, read once (on a client of its own, not queued behind the polls). */
  double read(String series) {
    return sum(reader.get(port, "127.0.0.1", "/metrics").putHeader("auth", apiKey).send().await().bodyAsString(), series);
  }

  @Override
  public void close() {
    closed = true;
    http.close();
    reader.close();
  }
}
