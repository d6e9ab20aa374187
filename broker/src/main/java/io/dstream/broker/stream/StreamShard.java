package io.dstream.broker.stream;

import io.dstream.broker.archive.SubjectArchive;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.VerticleBase;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * A verticle owning the directory of the subjects that hash to it: subject to actor, and the
 * archive links of hibernated subjects. Its maps are touched only on its own context, so finding an
 * actor never needs a lock.
 *
 * <p>Placement: an actor runs on the event loop of the socket or request that created it (where
 * its first user is, so a publish and its reply cross no thread but the writer's), or on the
 * context of its subject's detached archive link, which is bound to the context it was created on.
 * The shard posts its work there.
 *
 * <p>Holds and hibernation: every socket and every request holds its actor ({@link StreamActor#hold})
 * from the shard task that finds it until it is done. A periodic tick posts each actor its tick;
 * an actor idle for longer than the idle timeout, with no hold, releases itself and tells the shard,
 * which forgets it; requests for a subject whose actor is releasing wait for that message and then
 * create the next actor, which reloads the subject from the store. A released actor whose subject
 * still has checkpoint work leaves its archive link here, ticked on its own context until the work is
 * done (or handed to the subject's next actor); the links take turns, a bounded number per tick.
 */
final class StreamShard extends VerticleBase {

  /**
   * Only a few checkpoints can run at once broker-wide, so ticking every waiting link each time
   * gains nothing: with 780,000 subjects waiting for their first checkpoint (scenario 6) that loop
   * took the event loops' time from everything else. The links take turns instead.
   */
  private static final int DETACHED_TICKS_PER_TICK = 1024;

  /** A hibernated subject's archive link and the context it is bound to. */
  private record Detached(SubjectArchive archive, Context context) {
  }

  private final StreamEnvironment env;
  private final Map<String, StreamActor> actors = new HashMap<>();
  /** Archive links of hibernated subjects with checkpoint work, in the order they are to be ticked next. */
  private final LinkedHashMap<String, Detached> detachedArchives = new LinkedHashMap<>();
  /** Requests for subjects whose actor released itself, until the shard hears of it. */
  private final Map<String, List<Runnable>> waitingForRelease = new HashMap<>();
  private long timerId = -1;

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
    actors.values().forEach(StreamActor::forgetInFlight);
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
   * The subject's actor with one more hold (a socket), taken in the shard task that finds it, so
   * hibernation cannot release it in between. The future completes on {@code caller}.
   */
  Future<StreamActor> attach(String subject, Context caller) {
    Promise<StreamActor> promise = Promise.promise();
    context.runOnContext(v -> withHeldActor(subject, caller,
        actor -> caller.runOnContext(w -> promise.complete(actor)),
        failure -> caller.runOnContext(w -> promise.fail(failure))));
    return promise.future();
  }

  /**
   * Finds or creates the subject's actor, holds it, and runs {@code operation} on the actor's
   * context; the hold ends with the reply, which completes the future on {@code caller}.
   */
  <T> Future<T> ask(String subject, Context caller, BiConsumer<StreamActor, BiConsumer<T, Throwable>> operation) {
    Promise<T> promise = Promise.promise();
    BiConsumer<T, Throwable> reply = (result, failure) -> caller.runOnContext(w -> {
      if (failure != null) {
        promise.fail(failure);
      } else {
        promise.complete(result);
      }
    });
    context.runOnContext(v -> withHeldActor(subject, caller, actor -> actor.ask(operation, reply),
        failure -> reply.accept(null, failure)));
    return promise.future();
  }

  /**
   * The consumers of those {@code subjects} whose actor is in memory, by subject, each read on its
   * actor's context; a hibernated or unknown subject is left out (it has none), and none is loaded.
   * The future completes on {@code caller}.
   */
  Future<Map<String, List<ConsumerView>>> consumers(List<String> subjects, Context caller) {
    Promise<Map<String, List<ConsumerView>>> answered = Promise.promise();
    context.runOnContext(v -> {
      List<String> names = new ArrayList<>();
      List<Future<List<ConsumerView>>> views = new ArrayList<>();
      for (String subject : subjects) {
        StreamActor actor = actors.get(subject);
        if (actor != null) {
          Promise<List<ConsumerView>> read = Promise.promise();
          actor.consumerViews(read::complete);
          names.add(subject);
          views.add(read.future());
        }
      }
      Future.all(views).onComplete(all -> caller.runOnContext(w -> {
        Map<String, List<ConsumerView>> byName = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
          byName.put(names.get(i), views.get(i).result());
        }
        answered.complete(byName);
      }));
    });
    return answered.future();
  }

  /** On this context: the subject's actor, held, to {@code use}; or why there is none to {@code fail}. */
  private void withHeldActor(String subject, Context caller, java.util.function.Consumer<StreamActor> use,
                             java.util.function.Consumer<Throwable> fail) {
    long term = env.ownership().term(subject);
    if (term < 0) {
      fail.accept(env.ownership().notOwned(subject));
      return;
    }
    List<Runnable> waiting = waitingForRelease.get(subject);
    StreamActor actor = actors.get(subject);
    if (actor != null && actor.term() != term) {
      depose(subject, actor);
      actor = null;
    }
    if (waiting == null && actor != null && actor.hold()) {
      use.accept(actor);
      return;
    }
    if (waiting != null || actor != null) {
      // Released on its own context; the shard hears of it in a moment and then creates the next one.
      waitingForRelease.computeIfAbsent(subject, s -> new ArrayList<>())
          .add(() -> withHeldActor(subject, caller, use, fail));
      return;
    }
    int limit = env.config().connectionLimits().maxActiveSubjects();
    if (env.metrics().activeActors().get() >= limit) {
      fail.accept(StreamError.overloaded("too many active subjects (" + limit + "); retry when idle ones hibernate"));
      return;
    }
    Detached detached = detachedArchives.remove(subject);
    if (detached != null && detached.archive().term() != term) {
      // Cluster mode: checkpoints of an older term of leadership; this term's actor starts its own.
      detached = null;
    }
    Context home = detached != null ? detached.context() : caller.isEventLoopContext() ? caller : context;
    StreamActor created = new StreamActor(subject, home, env, detached == null ? null : detached.archive(), term);
    actors.put(subject, created);
    env.metrics().activeActors().incrementAndGet();
    env.metrics().actorsCreated.increment();
    created.hold();
    created.load(failure -> context.runOnContext(v -> forget(subject, created)));
    use.accept(created);
  }

  private void forget(String subject, StreamActor actor) {
    if (actors.remove(subject, actor)) {
      env.metrics().activeActors().decrementAndGet();
    }
  }

  /** An actor released itself (on its context); {@code archive} is its link if it has work left. */
  private void released(StreamActor actor, SubjectArchive archive) {
    context.runOnContext(v -> {
      String subject = actor.subject();
      forget(subject, actor);
      env.metrics().actorsHibernated.increment();
      if (archive != null) {
        detachedArchives.put(subject, new Detached(archive, actor.context()));
      }
      List<Runnable> waiting = waitingForRelease.remove(subject);
      if (waiting != null) {
        waiting.forEach(Runnable::run);
      }
    });
  }

  /**
   * Cluster mode: this node no longer leads the subject's partition under the actor's term. The
   * actor refuses everything from now on and is forgotten; the next request, if this node leads
   * again, loads a new one from the store the Raft log brought up to date.
   */
  private void depose(String subject, StreamActor actor) {
    forget(subject, actor);
    actor.depose(env.ownership().notOwned(subject));
  }

  /**
   * Ticks the shard once now, outside its period; completes when every tick it posted ran. The
   * broker repeats it as it stops, until the bucket holds every subject's last changes.
   */
  Future<Void> tickNow() {
    Promise<Void> ticked = Promise.promise();
    context.runOnContext(v -> tick().onComplete(all -> ticked.complete()));
    return ticked.future();
  }

  /** Ticks the actors and a turn of the detached archive links; completes when every tick ran. */
  private Future<Void> tick() {
    long now = env.clock().millis();
    List<Future<Void>> ticks = new ArrayList<>();
    List<StreamActor> deposed = new ArrayList<>();
    for (StreamActor actor : actors.values()) {
      if (env.ownership().term(actor.subject()) != actor.term()) {
        deposed.add(actor);
      } else {
        ticks.add(actor.tick(now, this::released));
      }
    }
    deposed.forEach(actor -> depose(actor.subject(), actor));
    int turns = Math.min(DETACHED_TICKS_PER_TICK, detachedArchives.size());
    for (int i = 0; i < turns; i++) {
      Iterator<Map.Entry<String, Detached>> head = detachedArchives.entrySet().iterator();
      Map.Entry<String, Detached> next = head.next();
      head.remove();
      String subject = next.getKey();
      Detached detached = next.getValue();
      if (env.ownership().term(subject) != detached.archive().term()) {
        // Cluster mode: the leadership it checkpointed under ended; the next leader checkpoints.
        continue;
      }
      detachedArchives.put(subject, detached);
      Promise<Void> ticked = Promise.promise();
      detached.context().runOnContext(v -> {
        try {
          detached.archive().tick(now);
          if (detached.archive().idle()) {
            context.runOnContext(w -> detachedArchives.remove(subject, detached));
          }
        } finally {
          ticked.complete();
        }
      });
      ticks.add(ticked.future());
    }
    return Future.all(ticks).mapEmpty();
  }
}
