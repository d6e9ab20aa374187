package io.dstream.bench.load;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Core NATS, fan-out only: fire-and-forget publishes, no storage, no acks. The ceiling the issue
 * holds our acked, durable fan-out to. Messages a slow subscriber drops are reported as missing.
 */
final class NatsCoreTarget implements Target {

  private static final long QUIET_MS = 2_000;

  private final String url;
  private final long timeoutMs;

  NatsCoreTarget(String url, long timeoutMs) {
    this.url = url;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public String name() {
    return "nats-core";
  }

  @Override
  public boolean supports(Scenario scenario) {
    return scenario == Scenario.FANOUT;
  }

  @Override
  public FanOutResult fanOut(String subject, int count, int subscribers, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    List<Connection> connections = new ArrayList<>();
    List<Histogram> latencies = new ArrayList<>();
    AtomicLong delivered = new AtomicLong();
    AtomicLong lastDelivery = new AtomicLong();
    try {
      for (int i = 0; i < subscribers; i++) {
        Connection connection = JetStreamTarget.connect(url);
        connections.add(connection);
        Histogram latency = Rates.histogram();
        latencies.add(latency);
        Dispatcher dispatcher = connection.createDispatcher(message -> {
          latency.recordValue(Math.max(0, System.nanoTime() - Payload.nanos(message.getData())));
          delivered.incrementAndGet();
          lastDelivery.accumulateAndGet(System.nanoTime(), Math::max);
        });
        dispatcher.subscribe(subject);
        connection.flush(Duration.ofSeconds(10));
      }
      long expected = (long) count * subscribers;
      Connection publisher = JetStreamTarget.connect(url);
      connections.add(publisher);
      long start = System.nanoTime();
      for (int i = 0; i < count; i++) {
        publisher.publish(subject, Payload.bytes(System.nanoTime()));
      }
      publisher.flush(Duration.ofMillis(Math.max(1, deadline.remainingMs())));
      awaitDeliveries(delivered, expected, deadline);
      return new FanOutResult(Rates.perSecond(delivered.get(), lastDelivery.get() - start),
          Rates.p99Micros(latencies), delivered.get(), expected);
    } finally {
      for (Connection connection : connections) {
        connection.close();
      }
    }
  }

  /** Until everything arrived, nothing arrived for {@link #QUIET_MS} (drops), or time is up. */
  private static void awaitDeliveries(AtomicLong delivered, long expected, Deadline deadline) throws InterruptedException {
    long seen = -1;
    long quietSince = System.nanoTime();
    while (delivered.get() < expected && deadline.remainingMs() > 0) {
      long now = delivered.get();
      if (now != seen) {
        seen = now;
        quietSince = System.nanoTime();
      } else if ((System.nanoTime() - quietSince) / 1_000_000 > QUIET_MS) {
        return;
      }
      Thread.sleep(1);
    }
  }

  @Override
  public double publish(String subject, int count, int window) {
    throw new UnsupportedOperationException("core NATS has no acknowledged publish");
  }

  @Override
  public Histogram syncPublish(String subject, int count) {
    throw new UnsupportedOperationException("core NATS has no acknowledged publish");
  }

  @Override
  public double replay(String subject, int count) {
    throw new UnsupportedOperationException("core NATS stores nothing");
  }

  @Override
  public double manySubjects(String prefix, int subjects, int publishers, int count, int window) {
    throw new UnsupportedOperationException("core NATS has no acknowledged publish");
  }

  @Override
  public void close() {
    // Connections are per scenario.
  }
}
