package io.dstream.broker.nats;

import io.dstream.broker.cluster.Leadership;
import io.dstream.broker.cluster.Wire;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The NATS protocol in cluster mode (docs/cluster.md): a publish to a subject led by another node is
 * forwarded to that node over the clustered event bus, which runs the same step on the subject's
 * actor and answers with the sequence, so the PubAck leaves from the client's own node. (Core
 * messages, durable or not, reach the other nodes' subscriptions through {@link ClusterInterest}.)
 *
 * <p>Forwarding retries, until {@code DSTREAM_CLUSTER_FORWARD_TIMEOUT_MS}, whenever the request
 * provably did not reach an actor (no node there, or the node no longer leads). A request that timed
 * out may have been stored; it is retried only when it carries a dedup key ({@code Nats-Msg-Id}), which
 * the new leader's dedup window recognises, else the client gets an error and decides.
 */
final class ClusterPublishes {

  private static final long RETRY_MS = 100;
  /** One forwarding attempt's wait for its answer; the attempts together stay within the forward timeout. */
  private static final long ATTEMPT_MS = 2_000;

  /** A publish as forwarded: its stored bytes and the checks its headers asked for. */
  record Publish(byte[] stored, String dedupKey, long expectedLast, String expectedLastKey) {
  }

  private final NatsServer server;
  private final Vertx vertx;
  private final Leadership leadership;
  private final long timeoutMs;
  private final Counter forwarded;
  private final Counter failed;

  ClusterPublishes(NatsServer server, Vertx vertx, Leadership leadership, Duration forwardTimeout) {
    this.server = server;
    this.vertx = vertx;
    this.leadership = leadership;
    this.timeoutMs = forwardTimeout.toMillis();
    this.forwarded = server.metrics.clusterForwarded("publish");
    this.failed = server.metrics.clusterForwardFailed("publish");
  }

  private static String publishAddress(String node) {
    return "dstream.node." + node + ".publish";
  }

  void start() {
    Context context = vertx.getOrCreateContext();
    vertx.eventBus().<Buffer>consumer(publishAddress(leadership.nodeId()), message -> publishHere(message, context));
  }

  /** Whether another node leads the subject (or none does): its publishes are forwarded. */
  boolean remote(String subject) {
    return leadership.term(subject) < 0;
  }

  // ---- forwarding -------------------------------------------------------------------------------

  /** What became of one forwarded publish. */
  record Outcome(Published published, Throwable failure) {
  }

  /** One forwarded publish and where its outcome goes. */
  private record Item(Publish publish, Promise<Published> done) {
  }

  /**
   * Forwards a connection's publishes of one read to one subject, in order, as one request: the
   * leader runs them on the subject's actor in one task, as a local read's publishes are.
   */
  List<Future<Published>> forward(String subject, List<Publish> publishes) {
    List<Item> items = new ArrayList<>(publishes.size());
    List<Future<Published>> outcomes = new ArrayList<>(publishes.size());
    for (Publish publish : publishes) {
      Promise<Published> done = Promise.promise();
      items.add(new Item(publish, done));
      outcomes.add(done.future());
    }
    attempt(subject, items, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs));
    return outcomes;
  }

  private void attempt(String subject, List<Item> items, long deadline) {
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (remainingMs <= 0) {
      failed.increment(items.size());
      items.forEach(item -> item.done().fail(leadership.notOwned(subject)));
      return;
    }
    List<Publish> publishes = items.stream().map(Item::publish).toList();
    if (!remote(subject)) {
      runHere(subject, publishes, vertx.getOrCreateContext())
          .onComplete(ar -> settle(subject, items, deadline, ar.result(), ar.cause()));
      return;
    }
    String leader = leadership.leaderOf(leadership.placement().partitionOf(subject));
    if (leader == null || leader.equals(leadership.nodeId())) {
      vertx.setTimer(RETRY_MS, id -> attempt(subject, items, deadline));
      return;
    }
    forwarded.increment(items.size());
    vertx.eventBus().<Buffer>request(publishAddress(leader), encode(subject, publishes),
        new DeliveryOptions().setSendTimeout(Math.max(1, Math.min(remainingMs, ATTEMPT_MS)))).onComplete(ar -> {
      if (ar.succeeded()) {
        settle(subject, items, deadline, decodeOutcomes(ar.result().body(), publishes), null);
      } else {
        settle(subject, items, deadline, null, Wire.failure(ar.cause()));
      }
    });
  }

  /**
   * Completes each publish with its outcome, and tries again, together, those that provably reached
   * no actor (the node was gone or no longer led) and those a dedup key makes safe to repeat.
   */
  private void settle(String subject, List<Item> items, long deadline, List<Outcome> outcomes, Throwable whole) {
    List<Item> again = new ArrayList<>();
    for (int i = 0; i < items.size(); i++) {
      Item item = items.get(i);
      Throwable failure = whole != null ? whole : outcomes.get(i).failure();
      if (failure == null) {
        item.done().complete(outcomes.get(i).published());
        continue;
      }
      boolean retry = failure instanceof StreamError error && ("not_leader".equals(error.code())
          || "forward_timeout".equals(error.code()) && item.publish().dedupKey() != null);
      if (retry && System.nanoTime() < deadline) {
        again.add(item);
      } else {
        if (retry) {
          failed.increment();
        }
        item.done().fail(failure);
      }
    }
    if (!again.isEmpty()) {
      vertx.setTimer(RETRY_MS, id -> attempt(subject, again, deadline));
    }
  }

  /** Runs the publishes on the subject's actor here, in one task; one outcome each, in order. */
  private Future<List<Outcome>> runHere(String subject, List<Publish> publishes, Context context) {
    return server.registry.<List<Outcome>>ask(subject, context, (actor, reply) -> {
      Outcome[] outcomes = new Outcome[publishes.size()];
      AtomicInteger left = new AtomicInteger(publishes.size());
      List<StreamActor.Call<?>> calls = new ArrayList<>(publishes.size());
      for (int i = 0; i < publishes.size(); i++) {
        int at = i;
        Publish publish = publishes.get(i);
        calls.add(new StreamActor.Call<>(DurablePublisher.step(publish.stored(), publish.dedupKey(),
            publish.expectedLast(), publish.expectedLastKey()), (published, failure) -> {
          outcomes[at] = new Outcome(published, failure);
          if (left.decrementAndGet() == 0) {
            reply.accept(List.of(outcomes), null);
          }
        }));
      }
      actor.call(calls);
    });
  }

  /** On the leading node: the forwarded publishes go to the subject's actor, as a local read's would. */
  private void publishHere(Message<Buffer> message, Context context) {
    Buffer body = message.body();
    int[] at = {0};
    String subject = Wire.string(body, at);
    int count = body.getInt(at[0]);
    at[0] += 4;
    List<Publish> publishes = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      byte[] stored = Wire.bytes(body, at);
      String dedupKey = Wire.string(body, at);
      long expectedLast = body.getLong(at[0]);
      at[0] += 8;
      publishes.add(new Publish(stored, dedupKey, expectedLast, Wire.string(body, at)));
    }
    runHere(subject, publishes, context).onComplete(ar -> {
      if (ar.failed()) {
        message.fail(1, Wire.refusal(ar.cause()));
        return;
      }
      Buffer reply = Buffer.buffer(count * 18);
      for (Outcome outcome : ar.result()) {
        if (outcome.failure() == null) {
          Published published = outcome.published();
          reply.appendByte((byte) 1).appendLong(published.sequence()).appendLong(published.timestampMs())
              .appendByte((byte) (published.duplicate() ? 1 : 0));
        } else {
          StreamError error = StreamError.from(outcome.failure());
          reply.appendByte((byte) 0);
          Wire.string(reply, error.kind().name());
          Wire.string(reply, error.code());
          Wire.string(reply, error.getMessage());
        }
      }
      message.reply(reply);
    });
  }

  private static List<Outcome> decodeOutcomes(Buffer reply, List<Publish> publishes) {
    List<Outcome> outcomes = new ArrayList<>(publishes.size());
    int[] at = {0};
    for (Publish publish : publishes) {
      byte ok = reply.getByte(at[0]);
      at[0] += 1;
      if (ok == 1) {
        outcomes.add(new Outcome(new Published(reply.getLong(at[0]), reply.getLong(at[0] + 8), publish.stored(),
            reply.getByte(at[0] + 16) == 1), null));
        at[0] += 17;
      } else {
        String kind = Wire.string(reply, at);
        String code = Wire.string(reply, at);
        outcomes.add(new Outcome(null, StreamError.of(StreamError.Kind.valueOf(kind), code, Wire.string(reply, at))));
      }
    }
    return outcomes;
  }

  private static Buffer encode(String subject, List<Publish> publishes) {
    int bytes = subject.length() + 8;
    for (Publish publish : publishes) {
      bytes += publish.stored().length + 64;
    }
    Buffer body = Buffer.buffer(bytes);
    Wire.string(body, subject);
    body.appendInt(publishes.size());
    for (Publish publish : publishes) {
      body.appendInt(publish.stored().length).appendBytes(publish.stored());
      Wire.string(body, publish.dedupKey());
      body.appendLong(publish.expectedLast());
      Wire.string(body, publish.expectedLastKey());
    }
    return body;
  }
}
