package io.dstream.bench.load;

import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamSubscription;
import io.nats.client.MessageHandler;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import org.HdrHistogram.Histogram;

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
 * A JetStream server through jnats: nats-server ({@code jetstream}) or our broker's NATS port
 * ({@code ours-nats}), driven by this one code. A file-storage stream per subject, publishAsync with a
 * window for pipelining, push consumers with explicit acks for replay and fan-out; server defaults
 * everywhere else. Scenario 5's subjects get the stream their server's model asks for
 * ({@link ManySubjectsStreams}). A server that answers the consumer API with "consumers are not
 * supported" makes replay and fan-out {@linkplain NotAvailableException not available}.
 */
final class JetStreamTarget implements Target {

  /** The reason shown in the table when the server does not offer JetStream consumers. */
  static final String CONSUMERS_NOT_YET = "consumers not yet";

  /** How the subjects of scenario 5 get a stream. */
  enum ManySubjectsStreams {
    /** One stream {@code prefix.>} over all of them, as a NATS user models it on nats-server. */
    ONE_WILDCARD_STREAM,
    /**
     * None: every subject is its own durable stream, created by its first publish, and a stream
     * cannot span subjects (our broker); the PubAck names the subject as the stream.
     */
    SUBJECT_IS_STREAM
  }

  private final String name;
  private final NatsEndpoint endpoint;
  private final long timeoutMs;
  private final ManySubjectsStreams manySubjectsStreams;
  private final Connection connection;
  private final JetStream jetStream;
  private final JetStreamManagement management;

  JetStreamTarget(String name, NatsEndpoint endpoint, long timeoutMs, ManySubjectsStreams manySubjectsStreams)
      throws Exception {
    this.name = name;
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
    this.manySubjectsStreams = manySubjectsStreams;
    this.connection = endpoint.connect();
    this.jetStream = connection.jetStream();
    this.management = connection.jetStreamManagement();
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean supports(Scenario scenario) {
    return scenario != Scenario.REQUEST;
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
  private double publishWindowed(JetStream js, List<String> subjects, int count, int window, Deadline deadline)
      throws Exception {
    Semaphore permits = new Semaphore(window);
    CountDownLatch acked = new CountDownLatch(count);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    long start = System.nanoTime();
    for (int i = 0; i < count; i++) {
      if (!permits.tryAcquire(deadline.remainingMs(), TimeUnit.MILLISECONDS)) {
        throw new TimeoutException(name + " publish did not finish in time");
      }
      if (failure.get() != null) {
        throw new IllegalStateException(name + " publish failed", failure.get());
      }
      js.publishAsync(subjects.get(i % subjects.size()), Payload.bytes(System.nanoTime())).whenComplete((ack, error) -> {
        if (error != null) {
          failure.compareAndSet(null, error);
        }
        permits.release();
        acked.countDown();
      });
    }
    deadline.await(acked, name + " publish");
    long nanos = System.nanoTime() - start;
    if (failure.get() != null) {
      throw new IllegalStateException(name + " publish failed", failure.get());
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
        deadline.check(name + " sync publish");
      }
    }
    return roundTrips;
  }

  @Override
  public double replay(String subject, int count) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    CountDownLatch received = new CountDownLatch(count);
    Dispatcher dispatcher = connection.createDispatcher();
    JetStreamSubscription subscription = null;
    try {
      long start = System.nanoTime();
      subscription = consume(jetStream, subject, dispatcher, message -> {
        message.ack();
        received.countDown();
      }, DeliverPolicy.All);
      deadline.await(received, name + " replay");
      return Rates.perSecond(count, System.nanoTime() - start);
    } finally {
      if (subscription != null) {
        dispatcher.unsubscribe(subscription);
      }
      connection.closeDispatcher(dispatcher);
    }
  }

  /** A push consumer with explicit acks on the subject's stream, delivering to {@code handler}. */
  private JetStreamSubscription consume(JetStream js, String subject, Dispatcher dispatcher, MessageHandler handler,
                                        DeliverPolicy policy) throws Exception {
    PushSubscribeOptions options = PushSubscribeOptions.builder().stream(stream(subject))
        .configuration(ConsumerConfiguration.builder().ackPolicy(AckPolicy.Explicit).deliverPolicy(policy).build())
        .build();
    try {
      return js.subscribe(subject, dispatcher, handler, false, options);
    } catch (JetStreamApiException e) {
      String description = String.valueOf(e.getErrorDescription()).toLowerCase(Locale.ROOT);
      if (description.contains("consumers") && description.contains("not")) {
        throw new NotAvailableException(CONSUMERS_NOT_YET, e);
      }
      throw e;
    }
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
        Connection subscriberConnection = endpoint.connect();
        connections.add(subscriberConnection);
        Histogram latency = Rates.histogram();
        latencies.add(latency);
        AtomicLong mine = new AtomicLong();
        Dispatcher dispatcher = subscriberConnection.createDispatcher();
        consume(subscriberConnection.jetStream(), subject, dispatcher, message -> {
          message.ack();
          latency.recordValue(Math.max(0, System.nanoTime() - Payload.nanos(message.getData())));
          delivered.incrementAndGet();
          if (mine.incrementAndGet() == count) {
            lastDelivery.accumulateAndGet(System.nanoTime(), Math::max);
            all.countDown();
          }
        }, DeliverPolicy.New);
      }
      long start = System.nanoTime();
      publishWindowed(jetStream, List.of(subject), count, window, deadline);
      deadline.await(all, name + " fan-out delivery");
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
    if (manySubjectsStreams == ManySubjectsStreams.ONE_WILDCARD_STREAM) {
      stream(prefix + ".>");
    }
    List<Connection> connections = new ArrayList<>();
    try {
      List<Thread> threads = new ArrayList<>();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      int perPublisher = count / publishers;
      for (int p = 0; p < publishers; p++) {
        Connection publisherConnection = endpoint.connect();
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
        }, name + "-publisher-" + p));
      }
      long nanos = deadline.runAll(threads, failure, name + " many-subjects publish");
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
