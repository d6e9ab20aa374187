package io.dstream.broker.cluster;

import io.nats.client.JetStream;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;

import java.time.Duration;
import java.util.Map;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * Publishes distinct messages ({@code <tag>-0}, {@code <tag>-1}, ...) to one subject through jnats'
 * {@code publishAsync}, at most {@code window} unanswered at a time, each with its own
 * {@code Nats-Msg-Id}. A publish that fails (an error PubAck, a timeout, a lost connection) is sent
 * again with the same id and bytes, 200 ms later, until it is acknowledged: the dedup key makes the
 * retry idempotent, so in the end every message sent is stored once. Acknowledgements go to an
 * {@link AckLedger}. One sender thread; jnats completes the publishes on its own threads.
 */
final class PipelinedPublisher implements AutoCloseable {

  private static final long RETRY_DELAY_MS = 200;

  private record Message(String msgId, byte[] payload) {
  }

  private final JetStream js;
  private final AckLedger ledger;
  private final String tag;
  private final Semaphore window;
  private final Queue<Message> retries = new ConcurrentLinkedQueue<>();
  private final Map<String, Message> unacknowledged = new ConcurrentHashMap<>();
  private final ScheduledExecutorService retryTimer = Executors.newSingleThreadScheduledExecutor();
  private final AtomicInteger failures = new AtomicInteger();
  private final AtomicReference<Throwable> lastFailure = new AtomicReference<>();
  private final Thread sender;
  private volatile boolean sendingNew = true;
  private volatile boolean closed;
  private int next;

  PipelinedPublisher(JetStream js, AckLedger ledger, String tag, int window) {
    this.js = js;
    this.ledger = ledger;
    this.tag = tag;
    this.window = new Semaphore(window);
    this.sender = new Thread(this::send, "publisher-" + tag);
    sender.setDaemon(true);
    sender.start();
  }

  private void send() {
    try {
      while (!closed) {
        if (!window.tryAcquire(100, TimeUnit.MILLISECONDS)) {
          continue;
        }
        Message message = retries.poll();
        if (message == null && sendingNew) {
          String msgId = tag + "-" + next++;
          message = new Message(msgId, AckLedger.payloadOf(msgId));
          unacknowledged.put(msgId, message);
        }
        if (message == null) {
          window.release();
          Thread.sleep(10);
          continue;
        }
        publish(message);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private void publish(Message message) {
    long sent = System.nanoTime();
    Headers headers = new Headers().put("Nats-Msg-Id", message.msgId());
    CompletableFuture<PublishAck> ack;
    try {
      ack = js.publishAsync(ledger.subject(), headers, message.payload());
    } catch (RuntimeException e) {
      ack = CompletableFuture.failedFuture(e);
    }
    ack.whenComplete((answer, failure) -> {
      if (failure == null) {
        ledger.record(message.msgId(), message.payload(), answer, sent);
        unacknowledged.remove(message.msgId());
      } else {
        failures.incrementAndGet();
        lastFailure.set(failure);
        if (!closed) {
          retryTimer.schedule(() -> retries.add(message), RETRY_DELAY_MS, TimeUnit.MILLISECONDS);
        }
      }
      window.release();
    });
  }

  /** Publishes that failed and were sent again so far. */
  int failures() {
    return failures.get();
  }

  Throwable lastFailure() {
    return lastFailure.get();
  }

  /**
   * Stops sending new messages and keeps retrying the unacknowledged ones until each is
   * acknowledged; fails when some still are not after {@code timeout}.
   */
  void finish(Duration timeout) throws InterruptedException {
    sendingNew = false;
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!unacknowledged.isEmpty()) {
      if (System.nanoTime() > deadline) {
        fail(unacknowledged.size() + " messages of " + ledger.subject() + " still unacknowledged " + timeout
            + " after the publisher stopped (e.g. " + unacknowledged.keySet().stream().limit(5).toList()
            + "); last failure: " + lastFailure.get());
      }
      Thread.sleep(50);
    }
  }

  @Override
  public void close() {
    closed = true;
    retryTimer.shutdownNow();
    try {
      sender.join(5_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
