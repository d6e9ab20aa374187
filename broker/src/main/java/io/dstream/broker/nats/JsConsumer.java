package io.dstream.broker.nats;

import io.dstream.broker.stream.DeliveryPolicy;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.Subscriber;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Iterator;

/**
 * One JetStream consumer, as a subscriber of its stream's subject: the actor's
 * {@link io.dstream.broker.stream.Deliveries} run its ack window, ack wait and redeliveries with its
 * {@link DeliveryPolicy}; this class turns deliveries into NATS messages whose reply subject is
 * the JetStream ack subject ({@code $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<delivery id>.<ts>.<pending>},
 * which clients parse for the metadata), sent to the deliver subject (push) or to the waiting pull
 * requests in order (pull).
 *
 * <p>A consumer can be paused (NATS 2.11's {@code CONSUMER.PAUSE}): until its pause ends it pushes
 * nothing, new or redelivered, while pull requests wait and expire as usual; the pause is part of its
 * configuration ({@code pause_until}), so a durable consumer's survives a restart with its state.
 *
 * <p>Threading: {@link #push}, {@link #mayPush} and the pull queue run on the subject actor's
 * context (pull requests reach it through {@link StreamActor#execute}); {@link #dirty}, the pause and
 * the activity times are volatile, set and read on other contexts too (API calls, the state saver).
 */
final class JsConsumer implements Subscriber {

  private static final byte[] HEARTBEAT = "NATS/1.0 100 Idle Heartbeat\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] NO_MESSAGES = "NATS/1.0 404 No Messages\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] TIMEOUT = "NATS/1.0 408 Request Timeout\r\n\r\n".getBytes(StandardCharsets.US_ASCII);

  /** A waiting {@code MSG.NEXT}: where its messages go and how many more it wants. */
  private static final class Pull {
    final CoreDelivery.Target target;
    int remaining;
    final long expiresAtMs;
    long heartbeatTimer = -1;

    Pull(CoreDelivery.Target target, int batch, long expiresAtMs) {
      this.target = target;
      this.remaining = batch;
      this.expiresAtMs = expiresAtMs;
    }
  }

  final String stream;
  final String subject;
  final ConsumerConfig config;
  final String created;
  /** The connection that created an ephemeral consumer: it goes when that connection closes. */
  final NatsConnection owner;
  private final CoreDelivery delivery;
  private final Vertx vertx;
  private final String ackPrefix;
  /** A push consumer's deliver subject; null for a pull consumer. */
  private final CoreDelivery.Target target;
  private final ArrayDeque<Pull> pulls = new ArrayDeque<>();
  /** {@code pulls.size()}, for readers on other contexts (consumer info, the inactivity check). */
  private volatile int waitingPulls;
  private volatile StreamActor actor;
  private volatile boolean dirty = true;
  private volatile boolean deleted;
  /** Nothing is pushed before this (epoch ms); 0: not paused. */
  private volatile long pausedUntilMs;
  /** When a message was last pushed, and when an ack of any kind last arrived (epoch ms; 0: never). */
  private volatile long lastDeliveryMs;
  private volatile long lastAckMs;
  private long heartbeatTimer = -1;
  /** Since when nobody listens or pulls (0 while someone does), for ephemeral consumers' deletion. */
  private long inactiveSinceMs;

  JsConsumer(String stream, String subject, ConsumerConfig config, String created, NatsConnection owner,
             CoreDelivery delivery, Vertx vertx) {
    this.stream = stream;
    this.subject = subject;
    this.config = config;
    this.created = created;
    this.owner = owner;
    this.delivery = delivery;
    this.vertx = vertx;
    this.ackPrefix = JetStreamConsumers.ACK_PREFIX + stream + "." + config.name() + ".";
    this.target = config.deliverSubject() == null ? null : delivery.new Target(config.deliverSubject());
    this.pausedUntilMs = config.pauseUntilMs();
  }

  String name() {
    return config.name();
  }

  /** The subject's actor, held by this consumer while it exists (null until attached). */
  StreamActor actor() {
    return actor;
  }

  void attached(StreamActor held) {
    this.actor = held;
    resumeWhenPauseEnds();
    if (config.deliverSubject() != null && config.heartbeatMs() > 0) {
      heartbeatTimer = vertx.setPeriodic(config.heartbeatMs(), id -> held.execute(() -> {
        if (!deleted) {
          target.status(HEARTBEAT);
        }
      }));
    }
  }

  /** Deleted: no more deliveries; the caller unsubscribes and lets go of the actor. */
  void deleted() {
    deleted = true;
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
  }

  boolean isDeleted() {
    return deleted;
  }

  /** Whether its state changed since {@link #saved}. */
  boolean dirty() {
    return dirty;
  }

  void saved() {
    dirty = false;
  }

  void changed() {
    dirty = true;
  }

  /**
   * Pauses deliveries until {@code untilMs} (epoch ms), or resumes them at once for 0 or a past time;
   * the actor is woken when the pause ends, since a refused push waits for a {@link StreamActor#resume}.
   */
  void pauseUntil(long untilMs) {
    pausedUntilMs = untilMs;
    dirty = true;
    resumeWhenPauseEnds();
  }

  private void resumeWhenPauseEnds() {
    StreamActor held = actor;
    if (held == null) {
      return;
    }
    long wait = pausedUntilMs - System.currentTimeMillis();
    if (wait <= 0) {
      held.resume(this);
      return;
    }
    // A timer of an earlier pause that fires meanwhile finds it still paused and does nothing.
    vertx.setTimer(wait + 1, id -> {
      if (!deleted && !paused()) {
        held.resume(this);
      }
    });
  }

  /** The end of its pause (epoch ms), or 0 when it is not paused at {@code nowMs}. */
  long pausedUntil(long nowMs) {
    long until = pausedUntilMs;
    return until > nowMs ? until : 0;
  }

  /** Whether it is paused now; reads the clock only when a pause was ever set (pushes ask this). */
  private boolean paused() {
    long until = pausedUntilMs;
    return until != 0 && until > System.currentTimeMillis();
  }

  /** Its configuration as info answers show it: {@code pause_until} while paused, as JetStream does. */
  JsonObject configJson() {
    long until = pausedUntil(System.currentTimeMillis());
    return until == 0 ? config.json() : config.json().copy().put("pause_until", Instant.ofEpochMilli(until).toString());
  }

  /** An ack of any kind arrived (its time is the ack floor's last activity). */
  void acknowledged() {
    lastAckMs = System.currentTimeMillis();
  }

  long lastDeliveryMs() {
    return lastDeliveryMs;
  }

  long lastAckMs() {
    return lastAckMs;
  }

  @Override
  public DeliveryPolicy policy() {
    return config.policy();
  }

  @Override
  public String description() {
    return "jetstream consumer " + stream + "/" + config.name();
  }

  @Override
  public boolean mayPush(boolean redelivery) {
    if (deleted) {
      return false;
    }
    if (config.deliverSubject() != null) {
      return target.listening() && !paused();
    }
    expirePulls(System.currentTimeMillis());
    return !pulls.isEmpty() && !paused();
  }

  @Override
  public void push(long sequence, long deliveryId, byte[] stored) {
    push(sequence, deliveryId, 1, 0, 0, stored);
  }

  @Override
  public void push(long sequence, long deliveryId, int deliveryCount, long timestampMs, long remaining,
                   byte[] stored) {
    dirty = true;
    lastDeliveryMs = System.currentTimeMillis();
    String ack = ackPrefix + deliveryCount + "." + sequence + "." + deliveryId + "." + timestampMs * 1_000_000L
        + "." + remaining;
    byte[] headers = StoredObject.natsHeaders(stored);
    byte[] payload = StoredObject.natsPayload(stored);
    if (config.deliverSubject() != null) {
      target.deliver(subject, ack, headers, payload);
      return;
    }
    Pull pull = pulls.peek();
    if (pull == null) {
      return;
    }
    pull.target.deliver(subject, ack, headers, payload);
    if (--pull.remaining == 0) {
      finish(pulls.poll(), null);
    }
  }

  @Override
  public void unknownAck(long deliveryId) {
    // A late ack of a delivery already sent again, or of one from before a restart: JetStream ignores those too.
  }

  /** On the actor's context: a {@code MSG.NEXT} request. */
  void pull(String reply, int batch, boolean noWait, long expiresMs, long heartbeatMs) {
    long expiresAt = expiresMs > 0 ? System.currentTimeMillis() + expiresMs : Long.MAX_VALUE;
    Pull pull = new Pull(delivery.new Target(reply), Math.max(1, batch), expiresAt);
    pulls.add(pull);
    waitingPulls = pulls.size();
    StreamActor held = actor;
    if (expiresMs > 0) {
      vertx.setTimer(expiresMs, id -> held.execute(() -> {
        if (pulls.remove(pull)) {
          finish(pull, TIMEOUT);
        }
      }));
    }
    if (heartbeatMs > 0) {
      pull.heartbeatTimer = vertx.setPeriodic(heartbeatMs, id -> held.execute(() -> {
        if (pulls.contains(pull)) {
          pull.target.status(HEARTBEAT);
        }
      }));
    }
    held.resume(this);
    if (noWait) {
      // Queued after the resume's pump: whatever could be sent at once has been.
      held.execute(() -> {
        if (pulls.remove(pull)) {
          finish(pull, NO_MESSAGES);
        }
      });
    }
  }

  /** Whether someone listens to its deliver subject (push) or has a pull request waiting (pull); any thread. */
  boolean active() {
    return target != null ? target.listening() : waitingPulls > 0;
  }

  /** How long it has been inactive at {@code nowMs}, given whether it is {@code active} now; the manager's context. */
  long inactiveFor(boolean active, long nowMs) {
    if (active) {
      inactiveSinceMs = 0;
      return 0;
    }
    if (inactiveSinceMs == 0) {
      inactiveSinceMs = nowMs;
    }
    return nowMs - inactiveSinceMs;
  }

  /** Waiting pull requests, for consumer info. */
  int waiting() {
    return waitingPulls;
  }

  private void expirePulls(long nowMs) {
    Iterator<Pull> it = pulls.iterator();
    while (it.hasNext()) {
      Pull pull = it.next();
      if (pull.expiresAtMs <= nowMs) {
        it.remove();
        finish(pull, TIMEOUT);
      }
    }
  }

  /** Ends a pull request, with a status message when it ends unfulfilled. */
  private void finish(Pull pull, byte[] status) {
    waitingPulls = pulls.size();
    if (pull.heartbeatTimer >= 0) {
      vertx.cancelTimer(pull.heartbeatTimer);
    }
    if (status != null) {
      pull.target.status(status);
    }
  }
}
