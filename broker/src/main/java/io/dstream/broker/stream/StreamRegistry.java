package io.dstream.broker.stream;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Routes a subject to its shard (by hash) and so to its one actor. Thread-safe: the shard list is
 * fixed after {@link #start}.
 */
public final class StreamRegistry {

  private final List<StreamShard> shards;
  private final List<String> deployments = new ArrayList<>();

  private StreamRegistry(List<StreamShard> shards) {
    this.shards = shards;
  }

  /** Deploys {@code config.shards()} shards, each on its own event-loop context. */
  public static Future<StreamRegistry> start(Vertx vertx, StreamEnvironment env) {
    List<StreamShard> shards = new ArrayList<>();
    List<Future<String>> deployed = new ArrayList<>();
    for (int i = 0; i < env.config().shards(); i++) {
      StreamShard shard = new StreamShard(env);
      shards.add(shard);
      deployed.add(vertx.deployVerticle(shard));
    }
    StreamRegistry registry = new StreamRegistry(List.copyOf(shards));
    return Future.all(deployed).map(all -> {
      for (Future<String> id : deployed) {
        registry.deployments.add(id.result());
      }
      return registry;
    });
  }

  /**
   * The subject's actor with one more socket attached; the caller must {@link StreamActor#detach}
   * when the socket closes. Completes on {@code caller}.
   */
  public Future<StreamActor> attach(String subject, Context caller) {
    return shard(subject).attach(subject, caller);
  }

  /**
   * The one way a request calls an actor: one hop to the subject's shard, which finds (or creates)
   * and holds the actor in one task and queues {@code operation} on the actor's context; it replies
   * through its second argument, which ends the hold and completes the future on {@code caller}.
   * Nothing to detach.
   */
  public <T> Future<T> ask(String subject, Context caller,
                           BiConsumer<StreamActor, BiConsumer<T, Throwable>> operation) {
    return shard(subject).ask(subject, caller, operation);
  }

  /** Runs {@code step} on the subject's actor (see {@link #ask}); completes once its writes are durable. */
  public <T> Future<T> call(String subject, Context caller, SubjectStep<T> step) {
    return ask(subject, caller, (actor, reply) -> actor.call(step, reply));
  }

  /**
   * Read-only, for operators: the consumers of each of {@code subjects} whose actor is in memory,
   * without loading or waking any (a hibernated subject has no consumers). Completes on {@code caller}.
   */
  public Future<Map<String, List<ConsumerView>>> consumers(Collection<String> subjects, Context caller) {
    Map<StreamShard, List<String>> byShard = new HashMap<>();
    for (String subject : subjects) {
      byShard.computeIfAbsent(shard(subject), shard -> new ArrayList<>()).add(subject);
    }
    List<Future<Map<String, List<ConsumerView>>>> asked = new ArrayList<>();
    byShard.forEach((shard, names) -> asked.add(shard.consumers(names, caller)));
    return Future.all(asked).map(all -> {
      Map<String, List<ConsumerView>> merged = new HashMap<>();
      for (Future<Map<String, List<ConsumerView>>> answer : asked) {
        merged.putAll(answer.result());
      }
      return merged;
    });
  }

  private StreamShard shard(String subject) {
    return shards.get(Math.floorMod(subject.hashCode(), shards.size()));
  }

  /** Ticks every shard once now (see {@link StreamShard#tickNow}); completes when all ticks ran. */
  public Future<Void> tickNow() {
    List<Future<Void>> ticked = new ArrayList<>();
    for (StreamShard shard : shards) {
      ticked.add(shard.tickNow());
    }
    return Future.all(ticked).mapEmpty();
  }

  /** Undeploys the shards. */
  public Future<Void> stop(Vertx vertx) {
    List<Future<Void>> undeployed = new ArrayList<>();
    for (String id : deployments) {
      undeployed.add(vertx.undeploy(id));
    }
    return Future.all(undeployed).mapEmpty();
  }
}
