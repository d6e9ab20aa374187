package io.dstream.bench.load;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The core NATS protocol through jnats, against nats-server ({@code nats-core}) or our broker's NATS
 * port ({@code ours-nats-core}), driven by this one code. Fan-out: fire-and-forget publishes to plain
 * subscriptions, no acks (nats-server stores nothing; ours stores every message before delivering
 * it); messages a slow subscriber drops are reported as missing. Request/reply: jnats
 * {@code request()} to a service on a core subscription, one in flight (on ours the service subject
 * must be ephemeral, else the request is answered by a PubAck).
 */
final class NatsCoreTarget implements Target {

  private static final long QUIET_MS = 2_000;
  private static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(10);

  private final String name;
  private final NatsEndpoint endpoint;
  private final long timeoutMs;

  NatsCoreTarget(String name, NatsEndpoint endpoint, long timeoutMs) {
    this.name = name;
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean supports(Scenario scenario) {
    return scenario == Scenario.FANOUT || scenario == Scenario.REQUEST;
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
        Connection connection = endpoint.connect();
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
      Connection publisher = endpoint.connect();
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

  @Override
  @SuppressWarnings("try") // the client's close() may throw InterruptedException; try-with-resources still closes it
  public Histogram requestReply(String subject, int count) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    try (Connection service = endpoint.connect(); Connection client = endpoint.connect()) {
      Dispatcher dispatcher = service.createDispatcher(request -> service.publish(request.getReplyTo(),
          request.getData()));
      dispatcher.subscribe(subject);
      service.flush(REQUEST_TIMEOUT);
      Histogram roundTrips = Rates.histogram();
      for (int i = 0; i < count; i++) {
        long start = System.nanoTime();
        Message reply = client.request(subject, Payload.bytes(start), REQUEST_TIMEOUT);
        roundTrips.recordValue(System.nanoTime() - start);
        if (reply == null || Payload.nanos(reply.getData()) != start) {
          throw new IllegalStateException(name + " request " + i + " got no reply or another one: " + reply);
        }
        if ((i & 255) == 0) {
          deadline.check(name + " request/reply");
        }
      }
      return roundTrips;
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
