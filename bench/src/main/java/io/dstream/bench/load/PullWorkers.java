package io.dstream.bench.load;

import io.nats.client.Connection;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.PullSubscribeOptions;
import org.HdrHistogram.Histogram;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Scenario 10's consumers: {@code workers} clients, each on its own connection and thread, bound to
 * one durable pull consumer ({@link PullSubscribeOptions#bind}), each pulling batches of
 * {@link #BATCH} and acking every message. They share the consumer's messages as a work queue's
 * workers do. Every delivery is counted by its stream sequence, so the run knows when each of the
 * {@code count} messages (sequences 1 to {@code count} of a fresh stream) was consumed at least once,
 * and how many deliveries that took.
 */
final class PullWorkers implements AutoCloseable {

  /**
   * Messages one pull request asks for: enough that the pull's round trip is shared by many messages,
   * few enough that the three workers' batches together stay well under the consumer's default max
   * ack pending (1,000), so no worker waits on the others' unacked messages.
   */
  static final int BATCH = 100;
  /**
   * How long one pull request waits for its batch. A worker starts its next pull when the batch is
   * full or this passed, so it only bounds how late an idle worker notices the run is over.
   */
  private static final Duration PULL_WAIT = Duration.ofMillis(500);

  private final String name;
  private final int count;
  private final Deadline deadline;
  private final AtomicIntegerArray deliveriesBySequence;
  private final AtomicLong consumed = new AtomicLong();
  private final AtomicLong deliveries = new AtomicLong();
  private final AtomicLongArray deliveriesByWorker;
  private final AtomicLong lastAckNanos = new AtomicLong();
  private final AtomicBoolean stopped = new AtomicBoolean();
  private final AtomicReference<Throwable> failure = new AtomicReference<>();
  /** Counted down once every message was consumed, or on the first failure. */
  private final CountDownLatch finished = new CountDownLatch(1);
  private final List<Connection> connections = new ArrayList<>();
  private final List<Thread> threads = new ArrayList<>();
  private final List<Histogram> latencies = new ArrayList<>();

  private PullWorkers(String name, int count, int workers, Deadline deadline) {
    this.name = name;
    this.count = count;
    this.deadline = deadline;
    this.deliveriesBySequence = new AtomicIntegerArray(count);
    this.deliveriesByWorker = new AtomicLongArray(workers);
  }

  /** Connects {@code workers} clients bound to the durable {@code consumer} of {@code stream} and starts them pulling. */
  static PullWorkers start(String name, NatsEndpoint endpoint, String subject, String stream, String consumer,
                           int count, int workers, Deadline deadline) throws Exception {
    PullWorkers pullWorkers = new PullWorkers(name, count, workers, deadline);
    try {
      for (int i = 0; i < workers; i++) {
        Connection connection = endpoint.connect();
        pullWorkers.connections.add(connection);
        JetStreamSubscription subscription = connection.jetStream()
            .subscribe(subject, PullSubscribeOptions.bind(stream, consumer));
        Histogram latency = Rates.histogram();
        pullWorkers.latencies.add(latency);
        int worker = i;
        pullWorkers.threads.add(new Thread(() -> pullWorkers.work(worker, subscription, latency),
            name + "-worker-" + i));
      }
    } catch (Exception e) {
      pullWorkers.close();
      throw e;
    }
    pullWorkers.threads.forEach(Thread::start);
    return pullWorkers;
  }

  private void work(int worker, JetStreamSubscription subscription, Histogram latency) {
    try {
      while (!stopped.get()) {
        deadline.check(name + " work queue");
        Iterator<Message> batch = subscription.iterate(BATCH, PULL_WAIT);
        while (batch.hasNext()) {
          Message message = batch.next();
          latency.recordValue(Math.max(0, System.nanoTime() - Payload.nanos(message.getData())));
          message.ack();
          deliveriesByWorker.incrementAndGet(worker);
          consumed(message.metaData().streamSequence());
        }
      }
    } catch (Throwable e) {
      if (!stopped.get()) {
        failure.compareAndSet(null, e);
        finished.countDown();
      }
    }
  }

  private void consumed(long sequence) {
    deliveries.incrementAndGet();
    if (sequence < 1 || sequence > count) {
      failure.compareAndSet(null, new IllegalStateException(name + " delivered stream sequence " + sequence
          + ", outside the run's 1 to " + count));
      finished.countDown();
      return;
    }
    if (deliveriesBySequence.getAndIncrement((int) sequence - 1) == 0 && consumed.incrementAndGet() == count) {
      lastAckNanos.set(System.nanoTime());
      finished.countDown();
    }
  }

  /**
   * Waits until every message was consumed and acked by a worker, within the deadline; {@code startNanos}
   * is when the first publish was sent.
   */
  WorkQueueResult await(long startNanos) throws Exception {
    boolean done = finished.await(deadline.remainingMs(), TimeUnit.MILLISECONDS);
    stop();
    if (!done) {
      throw new IllegalStateException(name + " work queue: " + consumed.get() + " of " + count
          + " messages consumed in time (" + deliveries.get() + " deliveries)");
    }
    if (failure.get() != null) {
      throw new IllegalStateException(name + " work queue failed", failure.get());
    }
    Histogram merged = Rates.histogram();
    latencies.forEach(merged::add);
    List<Long> perWorker = new ArrayList<>();
    for (int i = 0; i < deliveriesByWorker.length(); i++) {
      perWorker.add(deliveriesByWorker.get(i));
    }
    return new WorkQueueResult(Rates.perSecond(count, lastAckNanos.get() - startNanos), Rates.micros(merged, 50),
        Rates.micros(merged, 99), count, deliveries.get(), perWorker);
  }

  /** Stops the workers, each within one pull wait; after it their histograms are no longer written. */
  private void stop() throws InterruptedException {
    stopped.set(true);
    for (Thread thread : threads) {
      thread.join(PULL_WAIT.toMillis() * 4);
    }
  }

  /** Stops the workers and closes their connections. */
  @Override
  public void close() {
    try {
      stop();
      for (Connection connection : connections) {
        connection.close();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
