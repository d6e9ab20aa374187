package io.dstream.broker.admin;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.CountAtBucket;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.time.Clock;
import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /admin/overview}: the broker's numbers now and over the last minutes, read from its own
 * Micrometer meters (the ones {@code /metrics} exports), so the console shows nothing a scrape
 * could not. Every {@link #INTERVAL_MS} a sample is taken: rates and publish-ack latency
 * percentiles over the interval (from counter and histogram deltas), gauges as read. The last
 * {@link #SAMPLES} samples are kept (five minutes, about 30 KB).
 *
 * <p>Threading: samples are taken on a worker thread (a gauge such as the checkpoint lag walks
 * every subject still waiting for a checkpoint, too long for an event loop); the sample ring is
 * guarded by its own monitor, read by requests on any event loop.
 */
public final class Overview {

  /** Time between samples. */
  static final long INTERVAL_MS = 2_000;
  /** Samples kept: {@link #INTERVAL_MS} × this is how far back the charts reach. */
  static final int SAMPLES = 150;

  private final MeterRegistry registry;
  private final Clock clock;
  private final String version;
  private final long startedAtMs;
  private final ArrayDeque<JsonObject> samples = new ArrayDeque<>();
  private Totals previous;
  private long timerId = -1;

  /** Totals of the cumulative meters at one sample. */
  private record Totals(long atMs, double published, double delivered, Latencies latencies) {
  }

  /** The publish-ack latency histogram: bucket upper bounds (ms) and cumulative counts up to each. */
  private record Latencies(double[] boundsMs, long[] cumulative) {
  }

  public Overview(MeterRegistry registry, Clock clock, String version) {
    this.registry = registry;
    this.clock = clock;
    this.version = version;
    this.startedAtMs = clock.millis();
  }

  /** Starts sampling every {@link #INTERVAL_MS}. */
  public void start(Vertx vertx) {
    previous = totals();
    timerId = vertx.setPeriodic(INTERVAL_MS, id -> vertx.executeBlocking(() -> {
      sample();
      return null;
    }, true));
  }

  public void stop(Vertx vertx) {
    if (timerId >= 0) {
      vertx.cancelTimer(timerId);
    }
  }

  void handle(RoutingContext ctx) {
    JsonArray history;
    synchronized (samples) {
      history = new JsonArray(List.copyOf(samples));
    }
    JsonObject body = new JsonObject().put("version", version).put("startedAtMs", startedAtMs)
        .put("uptimeMs", clock.millis() - startedAtMs).put("intervalMs", INTERVAL_MS)
        .put("now", current()).put("samples", history);
    AdminRequests.json(ctx, body.encode());
  }

  /** Takes one sample; package-private so a test can take them without waiting for the timer. */
  void sample() {
    Totals now = totals();
    Totals before;
    synchronized (samples) {
      before = previous;
      previous = now;
    }
    double seconds = Math.max(1, now.atMs() - before.atMs()) / 1000.0;
    long[] latency = delta(now.latencies().cumulative(), before.latencies().cumulative());
    double[] boundsMs = now.latencies().boundsMs();
    JsonObject sample = current().put("t", now.atMs())
        .put("publishRate", (now.published() - before.published()) / seconds)
        .put("deliveryRate", (now.delivered() - before.delivered()) / seconds)
        .put("publishP50Ms", percentileMs(boundsMs, latency, 0.50))
        .put("publishP99Ms", percentileMs(boundsMs, latency, 0.99));
    synchronized (samples) {
      samples.addLast(sample);
      while (samples.size() > SAMPLES) {
        samples.removeFirst();
      }
    }
  }

  /** The gauges and totals as they read now. */
  private JsonObject current() {
    return new JsonObject()
        .put("connections", gauge("dstream_connections"))
        .put("websockets", gauge("dstream_websockets"))
        .put("activeSubjects", gauge("dstream_actors_active"))
        .put("subjects", gauge("dstream_store_subjects"))
        .put("storedMessages", gauge("dstream_store_messages"))
        .put("storeBytes", gauge("dstream_store_file_bytes"))
        .put("published", counter("dstream_messages_published"))
        .put("delivered", counter("dstream_deliveries"))
        .put("inFlight", gauge("dstream_in_flight"))
        .put("checkpointLagSeconds", gauge("dstream_archive_checkpoint_lag_seconds"))
        .put("subjectsBehind", gauge("dstream_archive_subjects_behind"))
        .put("s3Errors", counter("dstream_s3_errors"));
  }

  private Totals totals() {
    return new Totals(clock.millis(), counter("dstream_messages_published"), counter("dstream_deliveries"),
        latencies(registry.find("dstream_publish_ack_latency").timer()));
  }

  private long gauge(String name) {
    Gauge gauge = registry.find(name).gauge();
    double value = gauge == null ? 0 : gauge.value();
    return Double.isNaN(value) ? 0 : Math.round(value);
  }

  /** The sum over every tag combination (S3 errors are counted per operation). */
  private long counter(String name) {
    double sum = 0;
    for (Counter counter : registry.find(name).counters()) {
      sum += counter.count();
    }
    return Math.round(sum);
  }

  /** The histogram as it reads now; empty if the timer is absent. */
  private static Latencies latencies(Timer timer) {
    if (timer == null) {
      return new Latencies(new double[0], new long[0]);
    }
    CountAtBucket[] counts = timer.takeSnapshot().histogramCounts();
    double[] boundsMs = new double[counts.length];
    long[] cumulative = new long[counts.length];
    for (int i = 0; i < counts.length; i++) {
      boundsMs[i] = counts[i].bucket(TimeUnit.MILLISECONDS);
      cumulative[i] = (long) counts[i].count();
    }
    return new Latencies(boundsMs, cumulative);
  }

  private static long[] delta(long[] now, long[] before) {
    long[] delta = new long[now.length];
    for (int i = 0; i < now.length; i++) {
      delta[i] = now[i] - (i < before.length ? before[i] : 0);
    }
    return delta;
  }

  /**
   * The upper bound of the histogram bucket holding the {@code quantile} of the interval's
   * publishes, in ms; null if nothing was published (a chart gap, not a zero latency).
   */
  private static Double percentileMs(double[] boundsMs, long[] cumulativeDelta, double quantile) {
    int buckets = Math.min(boundsMs.length, cumulativeDelta.length);
    if (buckets == 0 || cumulativeDelta[buckets - 1] <= 0) {
      return null;
    }
    double target = quantile * cumulativeDelta[buckets - 1];
    for (int i = 0; i < buckets; i++) {
      if (cumulativeDelta[i] >= target) {
        return boundsMs[i];
      }
    }
    return boundsMs[buckets - 1];
  }
}
