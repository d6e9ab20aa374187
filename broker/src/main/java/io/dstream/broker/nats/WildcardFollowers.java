package io.dstream.broker.nats;

import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.ConsumerState;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.pattern.TokenPattern;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The subjects a consumer of a wildcard stream follows, each with its own position: messages of one
 * subject are delivered in that subject's order, by that subject's actor, with that subject's
 * sequence. A subject is in one of two states:
 * <ul>
 *   <li><b>attached</b>: a {@link SubjectFollower} subscribed to its actor (which then stays in
 *   memory), while it has messages to deliver or deliveries awaiting an ack;</li>
 *   <li><b>idle</b>: only its next sequence, an entry of a map, once everything sent was acknowledged
 *   and nothing new came for a tick; its actor may hibernate. Its next message, on any surface,
 *   reaches the broker-wide {@link io.dstream.broker.stream.DurableTap} the moment it is durable
 *   ({@link #tapped}), which attaches it again from its position.</li>
 * </ul>
 * A subject never seen (created after the consumer) is tapped the same way and followed from its
 * first message. Subjects that exist when the consumer is created are found in the store's sorted
 * subject listing ({@link MatchingSubjects}); taps that arrive meanwhile wait until the listing is
 * done, so a subject is never started twice. At most {@code DSTREAM_NATS_MAX_WILDCARD_SUBJECTS}
 * subjects are followed; more is refused at creation and, for subjects created later, logged and
 * not followed.
 *
 * <p>Memory: an idle subject costs its map entry (its name and a number, about 100 bytes), not an
 * actor; the map cannot go, because the saved state must name every position (a subject's next
 * sequence cannot be told from its record once acknowledged messages may still be there).
 *
 * <p>Threading: taps arrive on the subjects' actor contexts, the rest on the consumers' manager
 * context; the maps are concurrent, and a subject moves between them in one {@code compute} of the
 * attached map, so a tap and a release of one subject never both win.
 */
final class WildcardFollowers {

  private static final Logger LOG = LoggerFactory.getLogger(WildcardFollowers.class);
  private static final long WARN_INTERVAL_MS = 60_000;

  private final JsConsumer consumer;
  private final NatsServer server;
  private final Context context;
  private final TokenPattern filter;
  private final int maxSubjects;
  private final Map<String, SubjectFollower> attached = new ConcurrentHashMap<>();
  private final Map<Long, SubjectFollower> bySlot = new ConcurrentHashMap<>();
  private final Map<String, Long> idle = new ConcurrentHashMap<>();
  private final AtomicLong slots = new AtomicLong();
  /** Subjects tapped while the existing ones are being listed, with the first sequence tapped. */
  private final Map<String, Long> early = new HashMap<>();
  private volatile boolean discovering = true;
  private volatile long warnedAtMs;

  WildcardFollowers(JsConsumer consumer, NatsServer server, Context context) {
    this.consumer = consumer;
    this.server = server;
    this.context = context;
    this.filter = TokenPattern.subjects(consumer.subject);
    this.maxSubjects = server.settings.maxWildcardSubjects();
  }

  boolean matches(String subject) {
    return filter.matches(subject) && !subject.startsWith("$");
  }

  Collection<SubjectFollower> attached() {
    return List.copyOf(attached.values());
  }

  SubjectFollower follower(long slot) {
    return bySlot.get(slot);
  }

  /** Subjects followed, attached or idle. */
  int followed() {
    return attached.size() + idle.size();
  }

  // ---- starting -------------------------------------------------------------------------------

  /** A new consumer: every matching subject of the store, from where its deliver policy says. */
  Future<Void> start(ConsumerConfig config) {
    return context.<List<Map.Entry<String, SubjectRecord>>>executeBlocking(
        () -> MatchingSubjects.list(server.store, consumer.subject, maxSubjects + 1), false).compose(found -> {
          if (found.size() > maxSubjects) {
            throw StreamError.invalid("invalid_consumer", "filter '" + consumer.subject + "' matches more than "
                + maxSubjects + " subjects, the most one consumer follows (DSTREAM_NATS_MAX_WILDCARD_SUBJECTS)");
          }
          List<Future<Void>> started = new ArrayList<>();
          for (Map.Entry<String, SubjectRecord> entry : found) {
            SubjectRecord record = entry.getValue();
            boolean any = record.messages() > 0;
            long next = record.lastSequence() + 1;
            if (config.startTimeMs() >= 0 && any) {
              started.add(attach(newFollower(entry.getKey()), record.firstSequence(), List.of(), config.startTimeMs()));
            } else if (config.start() == StreamActor.SUBSCRIBE_NEW || !any) {
              idle.put(entry.getKey(), next);
            } else {
              long from = config.start() == StreamActor.SUBSCRIBE_LAST ? record.lastSequence() : record.firstSequence();
              started.add(attach(newFollower(entry.getKey()), from, List.of(), -1));
            }
          }
          return Future.join(started).transform(ar -> discovered());
        });
  }

  /**
   * A saved consumer (restart, restore from the bucket): each saved subject from its saved position
   * (attached if it may have something to send: unacknowledged deliveries, messages past its
   * position, or no local record yet, which a load restores from the bucket), then matching subjects
   * it had not saved (created after its last save) from their first message.
   */
  Future<Void> resume(JsonObject saved) {
    Map<String, JsonObject> positions = new HashMap<>();
    saved.forEach(entry -> positions.put(entry.getKey(), (JsonObject) entry.getValue()));
    record Found(Map<String, SubjectRecord> records, List<Map.Entry<String, SubjectRecord>> others) {
    }
    return context.<Found>executeBlocking(() -> {
      Map<String, SubjectRecord> records = new HashMap<>();
      positions.keySet().forEach(subject -> records.put(subject, server.store.find(subject)));
      return new Found(records, MatchingSubjects.list(server.store, consumer.subject, maxSubjects + 1));
    }, false).compose(found -> {
      List<Future<Void>> started = new ArrayList<>();
      positions.forEach((subject, position) -> {
        long next = position.getLong("next", 1L);
        List<long[]> unacked = JetStreamConsumers.unacked(position);
        SubjectRecord record = found.records().get(subject);
        if (!unacked.isEmpty() || record == null || record.lastSequence() >= next) {
          started.add(attach(newFollower(subject), next, unacked, -1));
        } else {
          idle.put(subject, next);
        }
      });
      for (Map.Entry<String, SubjectRecord> other : found.others()) {
        if (!positions.containsKey(other.getKey()) && followed() < maxSubjects) {
          SubjectRecord record = other.getValue();
          if (record.messages() > 0) {
            started.add(attach(newFollower(other.getKey()), record.firstSequence(), List.of(), -1));
          } else {
            idle.put(other.getKey(), record.lastSequence() + 1);
          }
        }
      }
      return Future.join(started).transform(ar -> discovered());
    });
  }

  /** The listing is done: subjects tapped meanwhile are followed now (those it found are already). */
  private Future<Void> discovered() {
    Map<String, Long> tapped;
    synchronized (early) {
      discovering = false;
      tapped = new HashMap<>(early);
      early.clear();
    }
    tapped.forEach(this::follow);
    return Future.succeededFuture();
  }

  private SubjectFollower newFollower(String subject) {
    SubjectFollower follower = new SubjectFollower(consumer, subject, slots.incrementAndGet());
    attached.put(subject, follower);
    bySlot.put(follower.slot, follower);
    return follower;
  }

  // ---- following ------------------------------------------------------------------------------

  /** Messages of {@code subject} from {@code firstSequence} on just became durable (the tap, on its actor's context). */
  void tapped(String subject, long firstSequence) {
    if (attached.containsKey(subject)) {
      return;
    }
    if (discovering) {
      synchronized (early) {
        if (discovering) {
          early.merge(subject, firstSequence, Math::min);
          return;
        }
      }
    }
    follow(subject, firstSequence);
  }

  /** Attaches an idle or new subject from its position (an idle one's, or the first message tapped). */
  private void follow(String subject, long firstSequence) {
    SubjectFollower[] created = new SubjectFollower[1];
    long[] start = new long[1];
    attached.compute(subject, (name, existing) -> {
      if (existing != null) {
        return existing;
      }
      Long idleAt = idle.remove(name);
      if (idleAt == null && attached.size() + idle.size() >= maxSubjects) {
        overBound(name);
        return null;
      }
      // Below the tapped message if the subject was destroyed and started again at 1.
      start[0] = idleAt == null ? firstSequence : Math.min(idleAt, firstSequence);
      created[0] = new SubjectFollower(consumer, name, slots.incrementAndGet());
      return created[0];
    });
    if (created[0] != null) {
      bySlot.put(created[0].slot, created[0]);
      attach(created[0], start[0], List.of(), -1);
    }
  }

  private void overBound(String subject) {
    long now = System.currentTimeMillis();
    if (now - warnedAtMs >= WARN_INTERVAL_MS) {
      warnedAtMs = now;
      LOG.warn("consumer {}/{} follows {} subjects, the most allowed (DSTREAM_NATS_MAX_WILDCARD_SUBJECTS);"
          + " subject '{}' and others created since are not followed", consumer.stream, consumer.name(), maxSubjects,
          subject);
    }
  }

  /**
   * Subscribes {@code follower} to its subject's actor from {@code start} (never past the subject's
   * end: a subject restored from an older checkpoint than the saved position reuses those
   * sequences for new messages), or from {@code startTimeMs} if that is not negative. A failure
   * leaves the subject idle at {@code start}, attached again at its next message.
   */
  private Future<Void> attach(SubjectFollower follower, long start, List<long[]> unacked, long startTimeMs) {
    follower.startAt = start;
    return server.registry.attach(follower.subject, context).compose(actor -> {
      if (consumer.isDeleted() || attached.get(follower.subject) != follower) {
        actor.detach();
        return Future.<Void>succeededFuture();
      }
      follower.attached(actor);
      Promise<Long> subscribed = Promise.promise();
      if (startTimeMs >= 0) {
        actor.subscribeFromTime(follower, startTimeMs, (last, failure) -> complete(subscribed, last, failure));
      } else {
        actor.info((info, failure) -> {
          if (failure != null) {
            subscribed.fail(failure);
            return;
          }
          long last = info.lastSequence();
          List<long[]> retained = unacked.stream().filter(pair -> pair[0] <= last).toList();
          actor.subscribe(follower, Math.min(start, last + 1), retained,
              (done, refused) -> complete(subscribed, done, refused));
        });
      }
      return subscribed.future().<Void>mapEmpty();
    }).recover(failure -> {
      LOG.warn("consumer {}/{} could not follow '{}' ({}); it will at the subject's next message", consumer.stream,
          consumer.name(), follower.subject, failure.toString());
      release(follower, start);
      StreamActor actor = follower.actor();
      if (actor != null) {
        actor.detach(follower);
      }
      return Future.succeededFuture();
    });
  }

  private static void complete(Promise<Long> promise, Long value, Throwable failure) {
    if (failure != null) {
      promise.fail(failure);
    } else {
      promise.complete(value);
    }
  }

  /**
   * Lets subjects that had nothing to push since the last tick and have nothing to wait for go idle,
   * so their actors can hibernate. The consumers' manager calls it every second.
   */
  void tick() {
    for (SubjectFollower follower : attached.values()) {
      StreamActor actor = follower.actor();
      if (actor == null || follower.takePushed()) {
        continue;
      }
      actor.releaseIfSettled(follower, next -> {
        if (next >= 0) {
          release(follower, next);
        }
      });
    }
  }

  /** {@code follower} lets go of its subject, which stays idle at {@code next}. */
  private void release(SubjectFollower follower, long next) {
    attached.computeIfPresent(follower.subject, (subject, current) -> {
      if (current != follower) {
        return current;
      }
      idle.merge(subject, next, Math::min);
      return null;
    });
    bySlot.remove(follower.slot);
    consumer.released(follower);
  }

  /** The consumer was deleted: every subject is let go. */
  void delete() {
    List<SubjectFollower> followers = List.copyOf(attached.values());
    attached.clear();
    bySlot.clear();
    idle.clear();
    followers.forEach(follower -> {
      StreamActor actor = follower.actor();
      if (actor != null) {
        actor.detach(follower);
      }
    });
  }

  // ---- state ----------------------------------------------------------------------------------

  /**
   * Every followed subject's position ({@code {"subjects":{"<subject>":{"next":N,"unacked":[[seq,count]..]}}}},
   * idle ones with only {@code next}), with the sums consumer info shows.
   */
  Future<JsonObject> state() {
    JsonObject subjects = new JsonObject();
    idle.forEach((subject, next) -> subjects.put(subject, new JsonObject().put("next", next)));
    List<SubjectFollower> followers = List.copyOf(attached.values());
    List<Future<ConsumerState>> states = new ArrayList<>(followers.size());
    for (SubjectFollower follower : followers) {
      StreamActor actor = follower.actor();
      Promise<ConsumerState> state = Promise.promise();
      if (actor == null) {
        state.complete(null);
      } else {
        actor.consumerState(follower, (read, failure) -> state.complete(failure == null ? read : null));
      }
      states.add(state.future());
    }
    return Future.all(states).map(all -> {
      long unackedCount = 0;
      long pending = 0;
      long redelivered = 0;
      long lag = 0;
      for (int i = 0; i < followers.size(); i++) {
        SubjectFollower follower = followers.get(i);
        ConsumerState state = states.get(i).result();
        if (state == null) {
          Long idleAt = idle.get(follower.subject);
          subjects.put(follower.subject, new JsonObject().put("next", idleAt != null ? idleAt : follower.startAt));
          continue;
        }
        JsonArray unacked = new JsonArray();
        state.unacknowledged().forEach(pair -> unacked.add(new JsonArray().add(pair[0]).add(pair[1])));
        subjects.put(follower.subject, new JsonObject().put("next", state.nextSequence()).put("unacked", unacked));
        unackedCount += unacked.size();
        pending += state.pending();
        redelivered += state.redelivered();
        lag += state.lag();
      }
      return new JsonObject().put("subjects", subjects).put("unacked_count", unackedCount).put("pending", pending)
          .put("redelivered", redelivered).put("lag", lag);
    });
  }
}
