package io.dstream.bench.load;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * NATS JetStream through jnats: a file-storage stream per subject (one stream over all subjects of
 * scenario 5, as a NATS user would model it), publishAsync with a window for pipelining, push
 * consumers with explicit acks for replay and fan-out. Server defaults everywhere else.
 */
final class JetStreamTarget implements Target {

  private final String url;
  private final long timeoutMs;
  private final Connection connection;
  private final JetStream jetStream;
  private final JetStreamManagement management;

  JetStreamTarget(String url, long timeoutMs) throws Exception {
    this.url = url;
    this.timeoutMs = timeoutMs;
    this.connection = connect(url);
    this.jetStream = connection.jetStream();
    this.management = connection.jetStreamManagement();
  }

  static Connection connect(String url) throws Exception {
    return Nats.connect(new Options.Builder().server(url).noReconnect().connectionTimeout(Duration.ofSeconds(10))
        .maxMessagesInOutgoingQueue(100_000).build());
  }

  @Override
  public String name() {
    return "jetstream";
  }

  @Override
  public boolean supports(Scenario scenario) {
    return true;
  }

  private String stream(String... subjects) throws Exception {
    String name = subjects[0].replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
    management.addStream(StreamConfiguration.builder().name(name).subjects(subjects).storageType(StorageType.File).build());
    return name;
  }

  @Override
  public double publish(String subject, int count, int window) throws Exception {
    stream(subject);
    return publishWindowed(connection.jetStream(), List.of(subject), count, window, new Deadline(timeoutMs));
  }

  /** Publishes round-robin over {@code subjects} with at most {@code window} unacknowledged. */
  private static double publishWindowed(JetStream js, List<String> subjects, int count, int window, Deadline deadline)
      throws Exception {
    Semaphore permits = new Semaphore(window);
    CountDownLatch acked = new CountDownLatch(count);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      if (!permits.tryAcquire(deadline.remainingMs(), TimeUnit.MILLISECONDS)) {
        throw new TimeoutException("jetstream publish did not finish in time");
      }
      if (failure.get() != null) {
        throw new IllegalStateException("jetstream publish failed", failure.get());
      }
      js.publishAsync(subjects.get(i % subjects.size()), Payload.bytes(System.nanoTime())).whenComplete((ack, error) -> {
        if (error != null) {
          failure.compareAndSet(null, error);
        }
        permits.release();
        acked.countDown();
      });
    }
    deadline.await(acked, "jetstream publish");
    long nanos = System.nanoTime() - start;
    if (failure.get() != null) {
      throw new IllegalStateException("jetstream publish failed", failure.get());
    }
    return Rates.perSecond(count, nanos);
  }

  @Override
  public Histogram syncPublish(String subject, int count) throws Exception {
    stream(subject);
    Deadline deadline = new Deadline(timeoutMs);
    Histogram roundTrips = Rates.histogram();
    for (int i = 0; i < count; i++) {
      long start = System.nanoTime();
      jetStream.publish(subject, Payload.bytes(start));
      roundTrips.recordValue(System.nanoTime() - start);
      if ((i & 255) == 0) {
        deadline.check("jetstream sync publish");
      }
    }
    return roundTrips;
  }

  @Override
  public double replay(String subject, int count) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    CountDownLatch received = new CountDownLatch(count);
    Dispatcher dispatcher = connection.createDispatcher();
    long start = System.nanoTime();
    JetStreamSubscription subscription = jetStream.subscribe(subject, dispatcher, message -> {
      message.ack();
      received.countDown();
    }, false, consumer(subject, DeliverPolicy.All));
    try {
      deadline.await(received, "jetstream replay");
      return Rates.perSecond(count, System.nanoTime() - start);
    } finally {
      dispatcher.unsubscribe(subscription);
      connection.closeDispatcher(dispatcher);
    }
  }

  private PushSubscribeOptions consumer(String subject, DeliverPolicy policy) throws Exception {
    return PushSubscribeOptions.builder().stream(stream(subject))
        .configuration(ConsumerConfiguration.builder().ackPolicy(AckPolicy.Explicit).deliverPolicy(policy).build())
        .build();
  }

  @Override
  public FanOutResult fanOut(String subject, int count, int subscribers, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    stream(subject);
    List<Connection> connections = new ArrayList<>();
    List<Histogram> latencies = new ArrayList<>();
    AtomicLong delivered = new AtomicLong();
    AtomicLong lastDelivery = new AtomicLong();
    CountDownLatch all = new CountDownLatch(subscribers);
    try {
      for (int i = 0; i < subscribers; i++) {
        Connection subscriberConnection = connect(url);
        connections.add(subscriberConnection);
        Histogram latency = Rates.histogram();
        latencies.add(latency);
        AtomicLong mine = new AtomicLong();
        Dispatcher dispatcher = subscriberConnection.createDispatcher();
        subscriberConnection.jetStream().subscribe(subject, dispatcher, message -> {
          message.ack();
          latency.recordValue(Math.max(0, System.nanoTime() - Payload.nanos(message.getData())));
          delivered.incrementAndGet();
          if (mine.incrementAndGet() == count) {
            lastDelivery.accumulateAndGet(System.nanoTime(), Math::max);
            all.countDown();
          }
        }, false, consumer(subject, DeliverPolicy.New));
      }
      long start = System.nanoTime();
      publishWindowed(jetStream, List.of(subject), count, window, deadline);
      deadline.await(all, "jetstream fan-out delivery");
      return new FanOutResult(Rates.perSecond(delivered.get(), lastDelivery.get() - start), Rates.p99Micros(latencies),
          delivered.get(), (long) count * subscribers);
    } finally {
      for (Connection subscriberConnection : connections) {
        subscriberConnection.close();
      }
    }
  }

  @Override
  public double manySubjects(String prefix, int subjects, int publishers, int count, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    stream(prefix + ".>");
    List<Connection> connections = new ArrayList<>();
    try {
      List<Thread> threads = new ArrayList<>();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      int perPublisher = count / publishers;
      for (int p = 0; p < publishers; p++) {
        Connection publisherConnection = connect(url);
        connections.add(publisherConnection);
        List<String> own = new ArrayList<>();
        for (int s = p; s < subjects; s += publishers) {
          own.add(prefix + "." + s);
        }
        JetStream js = publisherConnection.jetStream();
        threads.add(new Thread(() -> {
          try {
            publishWindowed(js, own, perPublisher, window, deadline);
          } catch (Exception e) {
            failure.compareAndSet(null, e);
          }
        }, "jetstream-publisher-" + p));
      }
      long nanos = deadline.runAll(threads, failure, "jetstream many-subjects publish");
      return Rates.perSecond((long) perPublisher * publishers, nanos);
    } finally {
      for (Connection publisherConnection : connections) {
        publisherConnection.close();
      }
    }
  }

  @Override
  public void close() {
    try {
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
