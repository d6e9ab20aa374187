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
import io.nats.client.api.ClusterInfo;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.ConsumerInfo;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.Replica;
import io.nats.client.api.RetentionPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.api.StreamInfo;
import org.HdrHistogram.Histogram;

import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A JetStream server through jnats: nats-server ({@code jetstream}, {@code jetstream-r3}) or our
 * broker's NATS port ({@code ours-nats}, {@code ours-cluster}), driven by this one code. A file-storage
 * stream per subject (with the replicas asked for, checked in the server's answer), publishAsync with
 * a window for pipelining, push consumers with explicit acks for replay and fan-out; server defaults
 * everywhere else. Which streams are declared follows the server's model ({@link Streams}). Scenario
 * 10's stream has work-queue retention and one durable pull consumer shared by {@link PullWorkers}.
 * A server that answers the consumer API with "consumers are not supported" makes replay, fan-out and
 * the work queue {@linkplain NotAvailableException not available}, and so does one that keeps acked
 * messages of a work-queue stream.
 */
final class JetStreamTarget implements Target {

  /** The reason shown in the table when the server does not offer JetStream consumers. */
  static final String CONSUMERS_NOT_YET = "consumers not yet";
  /** The reason shown when a work-queue stream still holds acked messages after the run. */
  static final String WORK_QUEUE_RETENTION_NOT_YET = "work-queue retention not yet";
  /** The durable consumer that scenario 10's workers share. */
  private static final String WORKERS = "workers";
  /**
   * How long after the last ack the server may take to show every ack in the consumer's state and
   * remove every acked message from the stream (not timed: the rate ends at the last ack sent).
   */
  private static final long SETTLE_MS = 10_000;

  /** Every scenario but request/reply, which is core NATS's ({@link NatsCoreTarget}). */
  static final Set<Scenario> SCENARIOS =
      Collections.unmodifiableSet(EnumSet.complementOf(EnumSet.of(Scenario.REQUEST)));

  /** How the server's streams come to be: which ones the target declares through the JetStream API. */
  enum Streams {
    /**
     * Declared (nats-server): a stream over the one subject a scenario publishes to, and one stream
     * {@code prefix.>} over scenario 5's subjects, as a NATS user models it.
     */
    DECLARED,
    /**
     * Every subject is its own durable stream, created by its first publish, and a stream cannot span
     * subjects (our broker): declared per subject as on nats-server (the declaration names it and sets
     * its config, such as work-queue retention), none in scenario 5. The PubAck names the subject as
     * the stream when none is declared.
     */
    SUBJECT_IS_STREAM,
    /**
     * As {@link #SUBJECT_IS_STREAM}, and nothing declared: our cluster (issue 17), whose row was
     * built before its stream API was; a declaration changes nothing on the publish path, so the row
     * kept this client code and its runs compare. Only the scenarios that need no declaration (1, 2
     * and 5) can run.
     */
    SUBJECT_IS_STREAM_UNDECLARED
  }

  private final String name;
  private final NatsEndpoint endpoint;
  private final long timeoutMs;
  private final Streams streams;
  private final int replicas;
  private final Set<Scenario> scenarios;
  private final Connection connection;
  private final JetStream jetStream;
  private final JetStreamManagement management;
  /** Our cluster: where its subjects' leaders and replicas are asked for; null elsewhere. */
  private final ClusterLeaders leaders;

  /**
   * {@code replicas}: of every declared stream (1 on a single server, 3 on a 3-node cluster);
   * {@code scenarios}: those this system runs ({@link #SCENARIOS}, or a cluster's {@link Scenario#CLUSTER_ROW});
   * {@code leaders}: our cluster's admin API, which names a subject's leader (null for any other server).
   */
  JetStreamTarget(String name, NatsEndpoint endpoint, long timeoutMs, Streams streams, int replicas,
                  Set<Scenario> scenarios, ClusterLeaders leaders) throws Exception {
    this.name = name;
    this.endpoint = endpoint;
    this.timeoutMs = timeoutMs;
    this.streams = streams;
    this.replicas = replicas;
    this.scenarios = scenarios;
    this.connection = endpoint.connect();
    this.jetStream = connection.jetStream();
    this.management = connection.jetStreamManagement();
    this.leaders = leaders;
  }

  @Override
  public String leaderOf(String subject) throws Exception {
    if (leaders != null) {
      return leaders.leaderOf(subject);
    }
    if (replicas == 1) {
      return null;
    }
    ClusterInfo cluster = management.getStreamInfo(streamName(subject)).getClusterInfo();
    if (cluster == null || cluster.getLeader() == null) {
      return null;
    }
    StringJoiner replicas = new StringJoiner(", ", " (", ")");
    for (Replica replica : cluster.getReplicas()) {
      replicas.add(replica.getName() + (replica.isCurrent() ? " current" : " not current") + ", lag "
          + replica.getLag());
    }
    return cluster.getLeader() + replicas;
  }

  /** The stream this target declares over {@code subject} (and others, for scenario 5). */
  private static String streamName(String subject) {
    return subject.replaceAll("[^A-Za-z0-9]", "_").toUpperCase(Locale.ROOT);
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public boolean supports(Scenario scenario) {
    return scenarios.contains(scenario);
  }

  private String stream(String... subjects) throws Exception {
    return stream(RetentionPolicy.Limits, subjects).getConfiguration().getName();
  }

  private StreamInfo stream(RetentionPolicy retention, String... subjects) throws Exception {
    String streamName = streamName(subjects[0]);
    StreamInfo created = management.addStream(StreamConfiguration.builder().name(streamName).subjects(subjects)
        .retentionPolicy(retention).storageType(StorageType.File).replicas(replicas).build());
    if (replicas > 1) {
      ClusterInfo cluster = created.getClusterInfo();
      int peers = cluster == null || cluster.getLeader() == null ? 0
          : 1 + (cluster.getReplicas() == null ? 0 : cluster.getReplicas().size());
      if (created.getConfiguration().getReplicas() != replicas || peers != replicas) {
        throw new IllegalStateException(name + " was asked for a stream of " + replicas + " replicas and answered "
            + created.getConfiguration().getReplicas() + " replicas on " + peers + " peers (" + cluster + ")");
      }
    }
    return created;
  }

  /** The stream of scenarios 1 and 2: the subject's own, declared unless the server's model declares none. */
  private void publishStream(String subject) throws Exception {
    if (streams != Streams.SUBJECT_IS_STREAM_UNDECLARED) {
      stream(subject);
    }
  }

  @Override
  public double publish(String subject, int count, int window) throws Exception {
    publishStream(subject);
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
    publishStream(subject);
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
      throw consumersNotYet(e);
    }
  }

  /** {@link NotAvailableException} if the server said it has no consumers, else {@code e} itself. */
  private static Exception consumersNotYet(JetStreamApiException e) {
    String description = String.valueOf(e.getErrorDescription()).toLowerCase(Locale.ROOT);
    if (description.contains("consumers") && description.contains("not")) {
      return new NotAvailableException(CONSUMERS_NOT_YET, e);
    }
    return e;
  }

  /**
   * Scenario 10: a work-queue stream on {@code subject} and one durable pull consumer with explicit
   * acks (server defaults otherwise), {@code workers} {@link PullWorkers} bound to it, then
   * {@code count} publishes with at most {@code window} unacknowledged while they consume. After the
   * last ack, not timed: the consumer's ack floor must reach the last message and the stream must
   * be empty, within {@link #SETTLE_MS}.
   */
  @Override
  public WorkQueueResult workQueue(String subject, int count, int workers, int window) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    StreamInfo created = stream(RetentionPolicy.WorkQueue, subject);
    String stream = created.getConfiguration().getName();
    try {
      management.addOrUpdateConsumer(stream, ConsumerConfiguration.builder().durable(WORKERS).filterSubject(subject)
          .ackPolicy(AckPolicy.Explicit).build());
    } catch (JetStreamApiException e) {
      throw consumersNotYet(e);
    }
    WorkQueueResult result;
    try (PullWorkers pullWorkers = PullWorkers.start(name, endpoint, subject, stream, WORKERS, count, workers,
        deadline)) {
      long start = System.nanoTime();
      publishWindowed(jetStream, List.of(subject), count, window, deadline);
      result = pullWorkers.await(start);
    }
    long left = settle(stream, count, created.getConfiguration().getRetentionPolicy() == RetentionPolicy.WorkQueue,
        deadline);
    if (left > 0) {
      throw new NotAvailableException(WORK_QUEUE_RETENTION_NOT_YET, new IllegalStateException(String.format(Locale.ROOT,
          "%,.0f msg/s consumed (deliveries per worker %s), but %,d of %,d acked messages are still in the"
              + " stream (created with retention workqueue, the server answered retention %s)",
          result.consumedPerSecond(), result.sharing(), left, count, created.getConfiguration().getRetentionPolicy())));
    }
    return result;
  }

  /**
   * Waits until the server shows every ack of the work queue's {@code count} messages and returns how
   * many messages its stream still holds: 0 once the server removed every acked one, which is waited
   * for only if {@code removesAcked} (its stream-create answer showed work-queue retention). Throws
   * if an ack is missing.
   */
  private long settle(String stream, int count, boolean removesAcked, Deadline deadline) throws Exception {
    long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(Math.min(SETTLE_MS, deadline.remainingMs()));
    while (true) {
      ConsumerInfo consumer = management.getConsumerInfo(stream, WORKERS);
      boolean acked = consumer.getAckFloor().getStreamSequence() >= count && consumer.getNumAckPending() == 0;
      long left = management.getStreamInfo(stream).getStreamState().getMsgCount();
      if (acked && (left == 0 || !removesAcked) || System.nanoTime() >= until) {
        if (!acked) {
          throw new IllegalStateException(name + " work queue: every message was acked, but the consumer shows ack"
              + " floor " + consumer.getAckFloor().getStreamSequence() + " of " + count + " and "
              + consumer.getNumAckPending() + " acks pending");
        }
        return left;
      }
      Thread.sleep(50);
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
    if (streams == Streams.DECLARED) {
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
