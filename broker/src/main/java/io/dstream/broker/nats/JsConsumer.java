package io.dstream.broker.nats;

import io.dstream.broker.stream.ConsumerState;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamActor;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One JetStream consumer: its configuration, where its messages go (the deliver subject of a push
 * consumer, or the {@link PullRequests} of a pull consumer, shared by every client pulling from it)
 * and the subjects it follows, each through a {@link SubjectFollower} subscribed to that subject's
 * actor: one for a literal stream, as many as it follows now for a wildcard stream
 * ({@link WildcardFollowers}).
 *
 * <p>A follower that had a message to push but found no taker (no pull request waiting, nobody on
 * the deliver subject) is remembered as starved; a new pull request, or a listener on the deliver
 * subject, wakes exactly those, so a wildcard consumer over many quiet subjects costs nothing per
 * pull for the quiet ones.
 *
 * <p>A consumer can be paused (NATS 2.11's {@code CONSUMER.PAUSE}): until its pause ends it pushes
 * nothing, new or redelivered, while pull requests wait and expire as usual; the pause is part of its
 * configuration ({@code pause_until}), so a durable consumer's survives a restart with its state.
 *
 * <p>Threading: deliveries arrive on the followed subjects' actor contexts, pull requests on the
 * connections'; the pull queue and the starved set are thread-safe, the rest immutable or volatile
 * (the pause and the activity times are set and read on API and saver contexts too).
 * {@link #dirty} is read by the state saver.
 */
final class JsConsumer {

  final String stream;
  /** The subject it follows (a literal stream's), or the pattern of the subjects it follows (a wildcard stream's filter). */
  final String subject;
  final ConsumerConfig config;
  final String created;
  /** The connection that created an ephemeral consumer: it goes when that connection closes. */
  final NatsConnection owner;
  private final Vertx vertx;
  /** A push consumer's deliver subject; null for a pull consumer. */
  private final CoreDelivery.Target target;
  private final CoreDelivery delivery;
  private final PullRequests pulls;
  private final Set<SubjectFollower> starved = ConcurrentHashMap.newKeySet();
  /** A literal stream's one follower; null for a wildcard stream's consumer. */
  private final SubjectFollower single;
  /** A wildcard stream's followers; null for a literal stream's consumer. */
  private final WildcardFollowers wildcard;
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

  /** A consumer of {@code declaration}; {@code manager} is the context its wildcard followers are managed on. */
  JsConsumer(StreamDeclaration declaration, ConsumerConfig config, String created, NatsConnection owner,
             NatsServer server, Vertx vertx, Context manager) {
    this.stream = declaration.name();
    this.subject = config.filter();
    this.config = config;
    this.created = created;
    this.owner = owner;
    this.vertx = vertx;
    this.delivery = server.delivery;
    this.pulls = new PullRequests(vertx);
    this.target = config.deliverSubject() == null ? null : delivery.new Target(config.deliverSubject());
    if (declaration.wildcard()) {
      this.single = null;
      this.wildcard = new WildcardFollowers(this, server, manager);
    } else {
      this.single = new SubjectFollower(this, declaration.subject(), SubjectFollower.NO_SLOT);
      this.wildcard = null;
    }
    this.pausedUntilMs = config.pauseUntilMs();
    if (pausedUntilMs != 0) {
      wakeWhenPauseEnds();
    }
    if (target != null && config.heartbeatMs() > 0) {
      heartbeatTimer = vertx.setPeriodic(config.heartbeatMs(), id -> {
        if (!deleted) {
          target.status(PullRequests.HEARTBEAT);
        }
      });
    }
  }

  String name() {
    return config.name();
  }

  /** The one follower of a literal stream's consumer; null for a wildcard stream's. */
  SubjectFollower single() {
    return single;
  }

  /** The followers of a wildcard stream's consumer; null for a literal stream's. */
  WildcardFollowers wildcard() {
    return wildcard;
  }

  /** The followers subscribed to their subject's actor now. */
  Collection<SubjectFollower> attached() {
    if (wildcard != null) {
      return wildcard.attached();
    }
    return single.actor() == null ? List.of() : List.of(single);
  }

  /** The follower an ack names by its slot ({@link SubjectFollower#NO_SLOT} for a literal stream's), or null. */
  SubjectFollower follower(long slot) {
    if (wildcard != null) {
      return wildcard.follower(slot);
    }
    return slot == SubjectFollower.NO_SLOT ? single : null;
  }

  /** Deleted: no more deliveries; the caller lets go of the followers. */
  void deleted() {
    deleted = true;
    if (heartbeatTimer >= 0) {
      vertx.cancelTimer(heartbeatTimer);
    }
    pulls.clear();
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
   * the followers are woken when the pause ends, since a refused push waits for a wake.
   */
  void pauseUntil(long untilMs) {
    pausedUntilMs = untilMs;
    dirty = true;
    wakeWhenPauseEnds();
  }

  private void wakeWhenPauseEnds() {
    long wait = pausedUntilMs - System.currentTimeMillis();
    if (wait <= 0) {
      wake();
      return;
    }
    // A timer of an earlier pause that fires meanwhile finds it still paused and does nothing.
    vertx.setTimer(wait + 1, id -> {
      if (!deleted && !paused()) {
        wake();
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

  /**
   * Whether {@code follower} may push now; if not (nobody takes messages, or it is paused), it is
   * woken when someone takes messages again or the pause ends.
   */
  boolean mayPush(SubjectFollower follower) {
    if (deleted) {
      return false;
    }
    if (!paused() && takers()) {
      return true;
    }
    starved.add(follower);
    // Checked again after joining the set: a pull request that came in between woke the set already or will.
    return !paused() && takers();
  }

  private boolean takers() {
    return target != null ? target.listening() : pulls.ready(System.currentTimeMillis());
  }

  /**
   * A follower's delivery, to the deliver subject or the oldest waiting pull request. If nobody
   * takes it (the client went away between the check and the push) it is made available again at
   * once instead of waiting for its ack wait.
   */
  void deliver(SubjectFollower follower, long deliveryId, String ack, byte[] stored) {
    dirty = true;
    lastDeliveryMs = System.currentTimeMillis();
    byte[] headers = StoredObject.natsHeaders(stored);
    byte[] payload = StoredObject.natsPayload(stored);
    boolean taken = target != null ? target.deliver(follower.subject, ack, headers, payload)
        : pulls.deliver(follower.subject, ack, headers, payload);
    if (!taken) {
      starved.add(follower);
      follower.actor().nak(follower, deliveryId, 0);
    }
  }

  /**
   * A {@code MSG.NEXT} request: queued, then the starved followers are woken; a {@code no_wait}
   * request still waiting once they had their turn gets {@code 404 No Messages}.
   */
  void pull(String reply, int batch, boolean noWait, long expiresMs, long heartbeatMs) {
    long expiresAt = expiresMs > 0 ? System.currentTimeMillis() + expiresMs : Long.MAX_VALUE;
    PullRequests.Pull pull = pulls.add(delivery.new Target(reply), batch, expiresAt, heartbeatMs);
    if (expiresMs > 0) {
      vertx.setTimer(expiresMs, id -> pulls.end(pull, PullRequests.TIMEOUT));
    }
    Future<Void> woken = wake();
    if (noWait) {
      woken.onComplete(ar -> pulls.end(pull, PullRequests.NO_MESSAGES));
    }
  }

  /**
   * Lets the starved followers (and a literal stream's one follower, always) push again; completes
   * once each of their actors ran that turn.
   */
  Future<Void> wake() {
    List<SubjectFollower> woken = new ArrayList<>();
    if (single != null && single.actor() != null) {
      woken.add(single);
      starved.remove(single);
    }
    for (SubjectFollower follower : List.copyOf(starved)) {
      starved.remove(follower);
      if (follower != single && follower.actor() != null) {
        woken.add(follower);
      }
    }
    List<Future<Void>> turns = new ArrayList<>(woken.size());
    for (SubjectFollower follower : woken) {
      StreamActor actor = follower.actor();
      actor.resume(follower);
      Promise<Void> turn = Promise.promise();
      actor.execute(turn::complete);
      turns.add(turn.future());
    }
    return Future.join(turns).mapEmpty();
  }

  /** A follower let go of its subject: it can be starved no more. */
  void released(SubjectFollower follower) {
    starved.remove(follower);
  }

  /** Whether someone listens to its deliver subject (push) or has a pull request waiting (pull); any thread. */
  boolean active() {
    return target != null ? target.listening() : pulls.waiting() > 0;
  }

  /** Whether it is a push consumer. */
  boolean push() {
    return target != null;
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
    return pulls.waiting();
  }

  /** Its position and waiting pull requests, read on its subjects' actors' contexts. */
  Future<JsonObject> state() {
    if (wildcard != null) {
      return wildcard.state().map(state -> state.put("num_waiting", waiting()));
    }
    SubjectFollower follower = single;
    if (follower.actor() == null) {
      return Future.succeededFuture(stateJson(null).put("num_waiting", waiting()));
    }
    Promise<JsonObject> read = Promise.promise();
    follower.actor().consumerState(follower, (state, failure) -> {
      if (failure != null) {
        read.fail(failure);
      } else {
        read.complete(stateJson(state).put("num_waiting", waiting()));
      }
    });
    return read.future();
  }

  private static JsonObject stateJson(ConsumerState state) {
    if (state == null) {
      return new JsonObject().put("next", 1L).put("unacked", new JsonArray()).put("pending", 0).put("redelivered", 0L)
          .put("lag", 0L);
    }
    JsonArray unacked = new JsonArray();
    state.unacknowledged().forEach(pair -> unacked.add(new JsonArray().add(pair[0]).add(pair[1])));
    return new JsonObject().put("next", state.nextSequence()).put("unacked", unacked).put("pending", state.pending())
        .put("redelivered", state.redelivered()).put("lag", state.lag())
        .put("floor", state.firstUnacknowledged() - 1);
  }

  /**
   * JetStream's consumer info. A wildcard stream's consumer has no stream-wide sequence: its
   * delivered and ack floor sequences are 0, its counts are summed over its subjects, and
   * {@code dstream_subjects} says how many it follows.
   */
  JsonObject info(JsonObject state) {
    boolean wildcard = state.containsKey("subjects");
    long delivered = wildcard ? 0 : state.getLong("next") - 1;
    long floor = wildcard ? 0 : state.getLong("floor", delivered);
    long ackPending = wildcard ? state.getLong("unacked_count") : state.getJsonArray("unacked").size();
    long now = System.currentTimeMillis();
    long pausedUntil = pausedUntil(now);
    JsonObject info = new JsonObject().put("type", "io.nats.jetstream.api.v1.consumer_info_response")
        .put("stream_name", stream).put("name", name()).put("created", created)
        .put("config", configJson())
        .put("delivered", sequenceInfo(delivered, lastDeliveryMs()))
        .put("ack_floor", sequenceInfo(floor, lastAckMs()))
        .put("num_ack_pending", ackPending)
        .put("num_redelivered", state.getLong("redelivered")).put("num_waiting", state.getInteger("num_waiting", 0))
        .put("num_pending", state.getLong("lag")).put("ts", Instant.ofEpochMilli(now).toString());
    if (wildcard) {
      info.put("dstream_subjects", state.getJsonObject("subjects").size());
    }
    if (pausedUntil > 0) {
      info.put("paused", true).put("pause_remaining", TimeUnit.MILLISECONDS.toNanos(pausedUntil - now));
    }
    return info;
  }

  /** JetStream's {@code SequenceInfo}: {@code last_active} only once there was some. */
  private static JsonObject sequenceInfo(long sequence, long lastActiveMs) {
    JsonObject info = new JsonObject().put("consumer_seq", sequence).put("stream_seq", sequence);
    return lastActiveMs == 0 ? info : info.put("last_active", Instant.ofEpochMilli(lastActiveMs).toString());
  }
}
