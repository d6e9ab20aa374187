package io.dstream.broker.stream;

import io.dstream.broker.archive.SubjectArchive;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;

import java.time.Duration;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A verticle owning the actors of the subjects that hash to it. Its map is touched only on its own
 * context, and every actor it creates runs on that context, so actors of different shards run in
 * parallel on different event loops and actors of one shard never need a lock.
 *
 * <p>A periodic tick expires overdue deliveries and releases actors idle for longer than the idle
 * timeout (hibernation); the next request rehydrates them from the store. A released actor whose
 * subject still has checkpoint work leaves its archive link here, ticked until the work is done
 * (or handed to the subject's next actor), so hibernation never waits for the bucket; the links
 * take turns, a bounded number per tick.
 */
final class StreamShard extends VerticleBase {

  /**
   * Only a few checkpoints can run at once broker-wide, so ticking every waiting link each time
   * gains nothing: with 780,000 subjects waiting for their first checkpoint (scenario 6) that loop
   * took the event loops' time from everything else. The links take turns instead.
   */
  private static final int DETACHED_TICKS_PER_TICK = 1024;

  private final StreamEnvironment env;
  private final Map<String, StreamActor> actors = new HashMap<>();
  /**
   * Archive links of hibernated subjects that still have checkpoint work, in the order they are to be
   * ticked next; ticked until idle, at most {@link #DETACHED_TICKS_PER_TICK} per shard tick.
   */
  private final LinkedHashMap<String, SubjectArchive> detachedArchives = new LinkedHashMap<>();
  private long timerId = -1;
  private long reportedInFlight;

  StreamShard(StreamEnvironment env) {
    this.env = env;
  }

  @Override
  public Future<?> start() {
    timerId = vertx.setPeriodic(tickInterval(env).toMillis(), id -> tick());
    return Future.succeededFuture();
  }

  @Override
  public Future<?> stop() {
    vertx.cancelTimer(timerId);
    env.metrics().activeActors().addAndGet(-actors.size());
    env.metrics().inFlight().addAndGet(-reportedInFlight);
    reportedInFlight = 0;
    actors.clear();
    detachedArchives.clear();
    return Future.succeededFuture();
  }

  /** A quarter of the shortest timeout (or checkpoint interval), between 10 ms and 1 s. */
  static Duration tickInterval(StreamEnvironment env) {
    long shortest = Math.min(env.config().ackTimeout().toMillis(), env.config().idleTimeout().toMillis());
    shortest = Math.min(shortest, env.config().archivePolicy().checkpointInterval().toMillis());
    return Duration.ofMillis(Math.max(10, Math.min(1000, shortest / 4)));
  }

  /**
   * Finds or creates the subject's actor and counts one more attached socket on it, in one step on
   * this shard's context, so hibernation cannot release it in between. The future completes on
   * {@code caller}.
   */
  Future<StreamActor> attach(String subject, Context caller) {
    Promise<StreamActor> promise = Promise.promise();
    context.runOnContext(v -> {
      StreamActor actor;
      try {
        actor = actorFor(subject);
      } catch (OverloadedException e) {
        caller.runOnContext(w -> promise.fail(e));
        return;
      }
      actor.attach();
      caller.runOnContext(w -> promise.complete(actor));
    });
    return promise.future();
  }

  /**
   * The consumers of those {@code subjects} whose actor is in memory, by subject, read on this
   * shard's context; a hibernated or unknown subject is left out (it has none), and none is loaded.
   * The future completes on {@code caller}.
   */
  Future<Map<String, List<ConsumerView>>> consumers(List<String> subjects, Context caller) {
    Promise<Map<String, List<ConsumerView>>> promise = Promise.promise();
    context.runOnContext(v -> {
      Map<String, List<ConsumerView>> found = new HashMap<>();
      for (String subject : subjects) {
        StreamActor actor = actors.get(subject);
        if (actor != null) {
          found.put(subject, actor.consumerViews());
        }
      }
      caller.runOnContext(w -> promise.complete(found));
    });
    return promise.future();
  }

  /**
   * The subject's actor, created if needed.
   * @throws OverloadedException when creating it would exceed {@code maxActiveSubjects}
   */
  private StreamActor actorFor(String subject) {
    StreamActor actor = actors.get(subject);
    if (actor == null) {
      int limit = env.config().connectionLimits().maxActiveSubjects();
      if (env.metrics().activeActors().get() >= limit) {
        throw new OverloadedException("too many active subjects (" + limit + "); retry when idle ones hibernate");
      }
      StreamActor created = new StreamActor(subject, context, env, detachedArchives.remove(subject));
      actors.put(subject, created);
      env.metrics().activeActors().incrementAndGet();
      env.metrics().actorsCreated.increment();
      created.load(failure -> forget(subject, created));
      actor = created;
    }
    return actor;
  }

  private void forget(String subject, StreamActor actor) {
    if (actors.remove(subject, actor)) {
      env.metrics().activeActors().decrementAndGet();
    }
  }

  private void tick() {
    long now = env.clock().millis();
    long inFlight = 0;
    Iterator<StreamActor> it = actors.values().iterator();
    while (it.hasNext()) {
      StreamActor actor = it.next();
      actor.tick(now);
      inFlight += actor.inFlight();
      if (actor.hibernatable(now)) {
        it.remove();
        SubjectArchive pending = actor.detachArchive();
        if (pending != null) {
          detachedArchives.put(actor.subject(), pending);
        }
        env.metrics().activeActors().decrementAndGet();
        env.metrics().actorsHibernated.increment();
      }
    }
    env.metrics().inFlight().addAndGet(inFlight - reportedInFlight);
    reportedInFlight = inFlight;
    int turns = Math.min(DETACHED_TICKS_PER_TICK, detachedArchives.size());
    for (int i = 0; i < turns; i++) {
      Iterator<Map.Entry<String, SubjectArchive>> head = detachedArchives.entrySet().iterator();
      Map.Entry<String, SubjectArchive> next = head.next();
      head.remove();
      next.getValue().tick(now);
      if (!next.getValue().idle()) {
        detachedArchives.put(next.getKey(), next.getValue());
      }
    }
  }
}
