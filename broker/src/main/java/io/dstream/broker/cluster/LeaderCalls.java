package io.dstream.broker.cluster;

import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamInfo;
import io.dstream.broker.stream.StreamRegistry;
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
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Named operations run on the node that leads a subject: on this node when it leads the subject's
 * partition (always, on a single node), else sent to the leader over the clustered event bus and
 * answered from there. The broker's own state subjects (stream declarations, consumers' positions,
 * retention rules) are read and written through here, so any node serves the requests that need
 * them, whichever node leads them. A few operations are run on every node instead ({@link #everyNode}).
 *
 * <p>A call is sent again, until {@code DSTREAM_CLUSTER_FORWARD_TIMEOUT_MS}, when it provably ran
 * nowhere (no leader known, the node gone or no longer leading); one that timed out is sent again
 * only if the caller says it is idempotent. Each attempt waits at most {@value #ATTEMPT_MS} ms.
 *
 * <p>Thread-safe; completes on the caller's context. Nothing here blocks.
 */
public final class LeaderCalls {

  /** An operation as the leading node runs it, on {@code context}. */
  @FunctionalInterface
  public interface Operation {
    Future<Buffer> run(String subject, Buffer request, Context context);
  }

  private static final long RETRY_MS = 100;
  private static final long ATTEMPT_MS = 2_000;
  private static final String INFO = "subject.info";
  private static final String READ = "subject.read";
  private static final String APPEND = "subject.append";
  /** The header of a call addressed to a node rather than to a subject's leader ({@link #everyNode}). */
  private static final String EVERY_NODE = "every-node";

  private final Vertx vertx;
  private final StreamRegistry registry;
  private final Leadership leadership;
  private final long timeoutMs;
  private final Map<String, Operation> operations = new ConcurrentHashMap<>();
  private final Counter forwarded;
  private final Counter failed;

  /** {@code leadership} null: a single node, where every call runs here. */
  public LeaderCalls(Vertx vertx, StreamRegistry registry, Leadership leadership, Duration timeout,
                     BrokerMetrics metrics) {
    this.vertx = vertx;
    this.registry = registry;
    this.leadership = leadership;
    this.timeoutMs = timeout.toMillis();
    // Counted in cluster mode only: a single node forwards nothing.
    this.forwarded = leadership == null ? null : metrics.clusterForwarded("call");
    this.failed = leadership == null ? null : metrics.clusterForwardFailed("call");
    register(INFO, (subject, request, context) -> registry.<StreamInfo>ask(subject, context, StreamActor::info)
        .map(LeaderCalls::encodeInfo));
    register(READ, (subject, request, context) -> registry.<List<Published>>ask(subject, context,
        (actor, reply) -> actor.readPage(request.getLong(0), request.getInt(8), request.getLong(12), reply))
        .map(LeaderCalls::encodePage));
    register(APPEND, (subject, request, context) -> {
      boolean replace = request.getByte(0) == 1;
      byte[] stored = request.getBytes(1, request.length());
      return registry.call(subject, context, tx -> {
        long sequence = tx.append(stored);
        if (replace) {
          tx.deleteUpTo(sequence - 1);
        }
        return sequence;
      }).map(sequence -> Buffer.buffer(8).appendLong(sequence));
    });
  }

  /** Whether this node is a cluster member. */
  public boolean clustered() {
    return leadership != null;
  }

  /** This node's id in the cluster; null on a single node. */
  public String nodeId() {
    return leadership == null ? null : leadership.nodeId();
  }

  /**
   * The term under which this node leads {@code subject}'s partition: 0 on a single node, -1 when
   * another node leads it (or none does).
   */
  public long term(String subject) {
    return leadership == null ? 0 : leadership.term(subject);
  }

  /**
   * Whether every subject {@code pattern} matches is led by one node, the leader of {@code pattern}
   * itself (see {@link Placement#onePartition}): always on a single node.
   */
  public boolean onePartition(String pattern) {
    return leadership == null || leadership.placement().onePartition(pattern);
  }

  /**
   * Whether requests about the subjects of {@code pattern} are served on this node: it leads them
   * all, or no one node does (each node then serves them from what it holds).
   */
  public boolean servesHere(String pattern) {
    return !onePartition(pattern) || here(pattern);
  }

  /** Whether {@code subject}'s calls run on this node. */
  public boolean here(String subject) {
    return term(subject) >= 0;
  }

  /** The operation {@code name} runs {@code operation} on the leading node; every node registers the same ones. */
  public void register(String name, Operation operation) {
    operations.put(name, operation);
  }

  /** Starts answering the other nodes' calls (cluster mode only). */
  public void start() {
    if (leadership != null) {
      Context context = vertx.getOrCreateContext();
      vertx.eventBus().<Buffer>consumer(address(leadership.nodeId()), message -> served(message, context));
    }
  }

  private static String address(String node) {
    return "dstream.node." + node + ".call";
  }

  /** Runs {@code name} with {@code request} on the node leading {@code subject}; see the class comment for retries. */
  public Future<Buffer> call(String subject, String name, Buffer request, boolean idempotent) {
    Promise<Buffer> done = Promise.promise();
    attempt(subject, name, request, idempotent, System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs), done);
    return done.future();
  }

  /**
   * Runs {@code name} with {@code request} on every node heard from recently, this one included,
   * and completes once each has answered or failed, or {@code wait} later; the operation gets a null
   * subject. For news every node should have before a client is answered: a node that does not
   * answer in time (down, frozen, busy) is not waited for, and must learn the news by its own means.
   */
  public Future<Void> everyNode(String name, Buffer request, Duration wait) {
    Operation operation = operations.get(name);
    List<Future<Buffer>> answered = new ArrayList<>();
    answered.add(runSafely(operation, null, request, vertx.getOrCreateContext()));
    for (String node : leadership.members()) {
      if (!node.equals(leadership.nodeId())) {
        answered.add(vertx.eventBus().<Buffer>request(address(node), request, new DeliveryOptions()
            .addHeader("op", name).addHeader(EVERY_NODE, "true").setSendTimeout(wait.toMillis())).map(Message::body));
      }
    }
    Promise<Void> done = Promise.promise();
    long timer = vertx.setTimer(wait.toMillis(), id -> done.tryComplete());
    Future.join(answered).onComplete(ar -> {
      vertx.cancelTimer(timer);
      done.tryComplete();
    });
    return done.future();
  }

  private void attempt(String subject, String name, Buffer request, boolean idempotent, long deadline,
                       Promise<Buffer> done) {
    long remainingMs = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
    if (here(subject)) {
      Operation operation = operations.get(name);
      Future<Buffer> ran = operation == null
          ? Future.failedFuture(StreamError.of(StreamError.Kind.INTERNAL, "internal", "no operation " + name))
          : runSafely(operation, subject, request, vertx.getOrCreateContext());
      ran.onComplete(ar -> settle(subject, name, request, idempotent, deadline, done, ar.result(), ar.cause()));
      return;
    }
    if (remainingMs <= 0) {
      failed.increment();
      done.fail(leadership.notOwned(subject));
      return;
    }
    String leader = leadership.leaderOf(leadership.placement().partitionOf(subject));
    if (leader == null || leader.equals(leadership.nodeId())) {
      vertx.setTimer(RETRY_MS, id -> attempt(subject, name, request, idempotent, deadline, done));
      return;
    }
    forwarded.increment();
    vertx.eventBus().<Buffer>request(address(leader), request, new DeliveryOptions()
            .addHeader("op", name).addHeader("subject", subject)
            .setSendTimeout(Math.max(1, Math.min(remainingMs, ATTEMPT_MS))))
        .onComplete(ar -> settle(subject, name, request, idempotent, deadline, done,
            ar.succeeded() ? ar.result().body() : null, ar.succeeded() ? null : Wire.failure(ar.cause())));
  }

  private void settle(String subject, String name, Buffer request, boolean idempotent, long deadline,
                      Promise<Buffer> done, Buffer answer, Throwable failure) {
    if (failure == null) {
      done.complete(answer);
      return;
    }
    String code = leadership != null && failure instanceof StreamError error ? error.code() : null;
    boolean unreached = "not_leader".equals(code);
    boolean unanswered = "forward_timeout".equals(code);
    if ((unreached || unanswered && idempotent) && System.nanoTime() < deadline) {
      vertx.setTimer(RETRY_MS, id -> attempt(subject, name, request, idempotent, deadline, done));
      return;
    }
    if (unreached || unanswered) {
      failed.increment();
    }
    done.fail(failure);
  }

  private static Future<Buffer> runSafely(Operation operation, String subject, Buffer request, Context context) {
    try {
      return operation.run(subject, request, context);
    } catch (RuntimeException e) {
      return Future.failedFuture(e);
    }
  }

  /** On the leading node: a call from another node. */
  private void served(Message<Buffer> message, Context context) {
    String subject = message.headers().get("subject");
    Operation operation = operations.get(message.headers().get("op"));
    boolean toNode = message.headers().contains(EVERY_NODE);
    if (subject == null && !toNode || operation == null) {
      message.fail(1, Wire.refusal(StreamError.of(StreamError.Kind.INTERNAL, "internal",
          "unknown cluster call " + message.headers().get("op"))));
      return;
    }
    if (!toNode && !here(subject)) {
      message.fail(1, Wire.refusal(leadership.notOwned(subject)));
      return;
    }
    runSafely(operation, subject, message.body(), context).onComplete(ar -> {
      if (ar.succeeded()) {
        message.reply(ar.result());
      } else {
        message.fail(1, Wire.refusal(ar.cause()));
      }
    });
  }

  // ---- the subject operations every node has --------------------------------------------------

  /** The subject's numbers, from its leader. */
  public Future<StreamInfo> info(String subject) {
    return call(subject, INFO, Buffer.buffer(0), true).map(body -> new StreamInfo(body.getLong(0), body.getLong(8),
        body.getLong(16), body.getLong(24), body.getInt(32)));
  }

  /** Up to {@code max} messages (at most {@code maxBytes}, but at least one) from sequence {@code from} on. */
  public Future<List<Published>> read(String subject, long from, int max, long maxBytes) {
    Buffer request = Buffer.buffer(20).appendLong(from).appendInt(max).appendLong(maxBytes);
    return call(subject, READ, request, true).map(body -> Wire.messages(body, new int[] {0}));
  }

  /**
   * Appends {@code stored}, and with {@code replace} deletes everything before it (a subject whose
   * last message is the whole state); completes with its sequence once durable. Not sent again
   * after a timeout: an append is not idempotent.
   */
  public Future<Long> append(String subject, byte[] stored, boolean replace) {
    Buffer request = Buffer.buffer(stored.length + 1).appendByte((byte) (replace ? 1 : 0)).appendBytes(stored);
    return call(subject, APPEND, request, false).map(body -> body.getLong(0));
  }

  private static Buffer encodeInfo(StreamInfo info) {
    return Buffer.buffer(36).appendLong(info.firstSequence()).appendLong(info.lastSequence())
        .appendLong(info.messages()).appendLong(info.bytes()).appendInt(info.subscribers());
  }

  private static Buffer encodePage(List<Published> page) {
    int bytes = 4;
    for (Published message : page) {
      bytes += message.stored().length + 20;
    }
    Buffer body = Buffer.buffer(bytes);
    Wire.messages(body, page);
    return body;
  }
}
