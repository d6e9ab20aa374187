package io.dstream.broker.nats;

import io.dstream.broker.cluster.Leadership;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamError;
import io.dstream.pattern.TokenPattern;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The NATS protocol in cluster mode (docs/cluster.md): a publish to a subject led by another node is
 * forwarded to that node over the clustered event bus, which runs the same step on the subject's
 * actor and answers with the sequence, so the PubAck leaves from the client's own node; and the
 * durable messages of a subject reach the core subscriptions of every node that announced interest
 * in it.
 *
 * <p>Forwarding retries, until {@code DSTREAM_CLUSTER_FORWARD_TIMEOUT_MS}, whenever the request
 * provably did not reach an actor (no node there, or the node no longer leads). A request that timed
 * out may have been stored; it is retried only when it carries a dedup key ({@code Nats-Msg-Id}), which
 * the new leader's dedup window recognises, else the client gets an error and decides.
 *
 * <p>Interest: each node publishes the distinct subjects and patterns its connections subscribe to
 * (at most {@link #MAX_ANNOUNCED_PATTERNS}, beyond which it asks for every subject) when they change
 * and every second; a leader sends a subject's durable batch to each node whose announcement matches.
 */
final class ClusterPublishes {

  static final int MAX_ANNOUNCED_PATTERNS = 1000;
  private static final String INTEREST = "dstream.cluster.interest";
  private static final long INTEREST_TTL_MS = 5_000;
  private static final long RETRY_MS = 100;
  /** One forwarding attempt's wait for its answer; the attempts together stay within the forward timeout. */
  private static final long ATTEMPT_MS = 2_000;

  /** A publish as forwarded: its stored bytes and the checks its headers asked for. */
  record Publish(byte[] stored, String dedupKey, long expectedLast, String expectedLastKey) {
  }

  private record Interest(List<TokenPattern> patterns, long receivedMs) {
    boolean matches(String subject) {
      if (patterns == null) {
        return true;
      }
      for (TokenPattern pattern : patterns) {
        if (pattern.matches(subject)) {
          return true;
        }
      }
      return false;
    }
  }

  private final NatsServer server;
  private final Vertx vertx;
  private final Leadership leadership;
  private final long timeoutMs;
  private final Map<String, Interest> interests = new ConcurrentHashMap<>();
  private long announcedGeneration = -1;
  private long lastAnnounceMs;

  ClusterPublishes(NatsServer server, Vertx vertx, Leadership leadership, Duration forwardTimeout) {
    this.server = server;
    this.vertx = vertx;
    this.leadership = leadership;
    this.timeoutMs = forwardTimeout.toMillis();
  }

  private static String publishAddress(String node) {
    return "dstream.node." + node + ".publish";
  }

  private static String tapAddress(String node) {
    return "dstream.node." + node + ".tap";
  }

  void start() {
    Context context = vertx.getOrCreateContext();
    vertx.eventBus().<Buffer>consumer(publishAddress(leadership.nodeId()), message -> publishHere(message, context));
    vertx.eventBus().<Buffer>consumer(tapAddress(leadership.nodeId()), message -> tapped(message.body()));
    vertx.eventBus().<JsonObject>consumer(INTEREST, message -> heard(message.body()));
    vertx.setPeriodic(100, id -> announceIfChanged());
  }

  /** Whether another node leads the subject (or none does): its publishes are forwarded. */
  boolean remote(String subject) {
    return leadership.term(subject) < 0;
  }

  // ---- forwarding -------------------------------------------------------------------------------

  Future<Published> forward(String subject, Publish publish) {
    Promise<Published> done = Promise.promise();
    attempt(subject, publish, encode(subject, publish), System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs),
        done);
    return done.future();
  }

  private void attempt(String subject, Publish publish, Buffer body, long deadline, Promise<Published> done) {
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (remainingMs <= 0) {
      done.fail(leadership.notOwned(subject));
      return;
    }
    if (!remote(subject)) {
      server.registry.call(subject, vertx.getOrCreateContext(),
          DurablePublisher.step(publish.stored(), publish.dedupKey(), publish.expectedLast(), publish.expectedLastKey()))
          .onComplete(ar -> retryOr(subject, publish, body, deadline, done, ar.result(), ar.cause()));
      return;
    }
    String leader = leadership.leaderOf(leadership.placement().partitionOf(subject));
    if (leader == null || leader.equals(leadership.nodeId())) {
      vertx.setTimer(RETRY_MS, id -> attempt(subject, publish, body, deadline, done));
      return;
    }
    vertx.eventBus().<Buffer>request(publishAddress(leader), body,
        new DeliveryOptions().setSendTimeout(Math.max(1, Math.min(remainingMs, ATTEMPT_MS)))).onComplete(ar -> {
      if (ar.succeeded()) {
        Buffer reply = ar.result().body();
        done.complete(new Published(reply.getLong(0), reply.getLong(8), publish.stored(), reply.getByte(16) == 1));
        return;
      }
      retryOr(subject, publish, body, deadline, done, null, failure(ar.cause()));
    });
  }

  /** Retries what provably reached no actor (and what a dedup key makes safe), else completes. */
  private void retryOr(String subject, Publish publish, Buffer body, long deadline, Promise<Published> done,
                       Published result, Throwable failure) {
    if (failure == null) {
      done.complete(result);
      return;
    }
    boolean retry = failure instanceof StreamError error && ("not_leader".equals(error.code())
        || "forward_timeout".equals(error.code()) && publish.dedupKey() != null);
    if (retry && System.nanoTime() < deadline) {
      vertx.setTimer(RETRY_MS, id -> attempt(subject, publish, body, deadline, done));
    } else {
      done.fail(failure);
    }
  }

  /** The leader's refusal as it was raised there, or why the request got no answer. */
  private static Throwable failure(Throwable cause) {
    if (!(cause instanceof ReplyException reply)) {
      return cause;
    }
    if (reply.failureType() == ReplyFailure.NO_HANDLERS) {
      return StreamError.of(StreamError.Kind.UNAVAILABLE, "not_leader", "cluster: the leading node is gone");
    }
    if (reply.failureType() == ReplyFailure.TIMEOUT) {
      return StreamError.of(StreamError.Kind.UNAVAILABLE, "forward_timeout",
          "cluster: the leading node did not answer in time; the publish may or may not be stored");
    }
    String[] parts = String.valueOf(reply.getMessage()).split("\n", 3);
    if (parts.length < 3) {
      return StreamError.of(StreamError.Kind.INTERNAL, "internal", String.valueOf(reply.getMessage()));
    }
    return StreamError.of(StreamError.Kind.valueOf(parts[0]), parts[1], parts[2]);
  }

  /** On the leading node: the forwarded publish goes to the subject's actor, as a local one would. */
  private void publishHere(Message<Buffer> message, Context context) {
    Buffer body = message.body();
    int[] at = {0};
    String subject = string(body, at);
    byte[] stored = bytes(body, at);
    String dedupKey = string(body, at);
    long expectedLast = body.getLong(at[0]);
    at[0] += 8;
    String expectedLastKey = string(body, at);
    server.registry.call(subject, context, DurablePublisher.step(stored, dedupKey, expectedLast, expectedLastKey))
        .onComplete(ar -> {
          if (ar.succeeded()) {
            Published published = ar.result();
            message.reply(Buffer.buffer(17).appendLong(published.sequence()).appendLong(published.timestampMs())
                .appendByte((byte) (published.duplicate() ? 1 : 0)));
          } else {
            StreamError error = StreamError.from(ar.cause());
            message.fail(1, error.kind().name() + "\n" + error.code() + "\n" + error.getMessage());
          }
        });
  }

  private static Buffer encode(String subject, Publish publish) {
    Buffer body = Buffer.buffer(publish.stored().length + subject.length() + 64);
    string(body, subject);
    body.appendInt(publish.stored().length).appendBytes(publish.stored());
    string(body, publish.dedupKey());
    body.appendLong(publish.expectedLast());
    string(body, publish.expectedLastKey());
    return body;
  }

  /** A nullable string: {@code int length (-1 for null) | UTF-8}. */
  private static void string(Buffer body, String value) {
    if (value == null) {
      body.appendInt(-1);
      return;
    }
    byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
    body.appendInt(utf8.length).appendBytes(utf8);
  }

  private static String string(Buffer body, int[] at) {
    byte[] utf8 = bytesOrNull(body, at);
    return utf8 == null ? null : new String(utf8, StandardCharsets.UTF_8);
  }

  private static byte[] bytes(Buffer body, int[] at) {
    return bytesOrNull(body, at);
  }

  private static byte[] bytesOrNull(Buffer body, int[] at) {
    int length = body.getInt(at[0]);
    at[0] += 4;
    if (length < 0) {
      return null;
    }
    byte[] data = body.getBytes(at[0], at[0] + length);
    at[0] += length;
    return data;
  }

  // ---- durable messages to other nodes' core subscriptions -------------------------------------

  /** Whether another node announced interest in {@code subject}; per append, so it must be cheap. */
  boolean remoteInterest(String subject) {
    if (interests.isEmpty()) {
      return false;
    }
    long now = System.currentTimeMillis();
    for (Interest interest : interests.values()) {
      if (now - interest.receivedMs() < INTEREST_TTL_MS && interest.matches(subject)) {
        return true;
      }
    }
    return false;
  }

  /** A leader's durable batch goes to every node interested in its subject. */
  void relay(String subject, List<Published> messages) {
    if (interests.isEmpty() || messages.isEmpty()) {
      return;
    }
    Buffer batch = null;
    long now = System.currentTimeMillis();
    for (Map.Entry<String, Interest> node : interests.entrySet()) {
      Interest interest = node.getValue();
      if (now - interest.receivedMs() < INTEREST_TTL_MS && interest.matches(subject)) {
        if (batch == null) {
          batch = Buffer.buffer();
          string(batch, subject);
          batch.appendInt(messages.size());
          for (Published message : messages) {
            batch.appendLong(message.sequence()).appendLong(message.timestampMs()).appendInt(message.stored().length)
                .appendBytes(message.stored());
          }
        }
        vertx.eventBus().send(tapAddress(node.getKey()), batch);
      }
    }
  }

  private void tapped(Buffer batch) {
    int[] at = {0};
    String subject = string(batch, at);
    int count = batch.getInt(at[0]);
    at[0] += 4;
    List<Published> messages = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      long sequence = batch.getLong(at[0]);
      long timestamp = batch.getLong(at[0] + 8);
      at[0] += 16;
      messages.add(new Published(sequence, timestamp, bytes(batch, at)));
    }
    server.delivery.durable(subject, messages);
  }

  private void announceIfChanged() {
    long generation = server.index.generation();
    long now = System.currentTimeMillis();
    if (generation == announcedGeneration && now - lastAnnounceMs < 1_000) {
      return;
    }
    announcedGeneration = generation;
    lastAnnounceMs = now;
    List<String> patterns = server.index.patterns(MAX_ANNOUNCED_PATTERNS);
    if (patterns != null) {
      // Reply inboxes get answers from this node, never durable messages from others.
      patterns = patterns.stream().filter(p -> !p.startsWith("_INBOX.")).toList();
    }
    JsonObject announcement = new JsonObject().put("node", leadership.nodeId());
    if (patterns == null) {
      announcement.put("all", true);
    } else {
      announcement.put("patterns", new JsonArray(patterns));
    }
    vertx.eventBus().publish(INTEREST, announcement);
  }

  private void heard(JsonObject announcement) {
    String node = announcement.getString("node");
    if (node == null || node.equals(leadership.nodeId())) {
      return;
    }
    List<TokenPattern> patterns = null;
    if (!announcement.getBoolean("all", false)) {
      patterns = new ArrayList<>();
      for (Object pattern : announcement.getJsonArray("patterns", new JsonArray())) {
        try {
          patterns.add(TokenPattern.subjects(String.valueOf(pattern)));
        } catch (IllegalArgumentException e) {
          // A subscription the other node accepted but this one cannot read: it asks for everything.
          patterns = null;
          break;
        }
      }
    }
    interests.put(node, new Interest(patterns, System.currentTimeMillis()));
  }
}
