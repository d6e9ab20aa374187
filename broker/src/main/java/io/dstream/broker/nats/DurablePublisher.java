package io.dstream.broker.nats;

import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.stream.NatsStored;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.SubjectStep;
import io.vertx.core.Future;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The durable publishes of one NATS connection: each goes to its subject's actor as an append
 * (at most once per {@code Nats-Msg-Id} within the dedup window, refused on a wrong
 * {@code Nats-Expected-Last-Sequence}), and its PubAck goes to its reply subject once the commit
 * holding it is durable.
 *
 * <p>The connection holds the actors of the subjects it publishes to (at most
 * {@link #MAX_HELD_SUBJECTS}, the least recently used let go first), so a publish costs one hop to
 * the actor, and the publishes of one read from the socket reach each actor in one task, whose
 * writes share a batch. Publishes to a subject whose actor is still being found wait in order.
 *
 * <p>A {@code PING} is answered once every publish read before it is durable (or refused), so a
 * client's flush means what it means on nats-server (everything before it was processed) and more:
 * stored. It also paces a publisher that flushes by the commits, not by the socket.
 *
 * <p>Bounds: at most {@code maxPendingRequests} publishes await their commit; at that count the
 * socket is not read until half are acknowledged. Their bytes count in the broker-wide budget; a
 * publish that does not fit is refused with a 503 JetStream error.
 *
 * <p>Threading: used on the connection's context; completions arrive on the actors' contexts and
 * touch only atomics and thread-safe writes.
 */
final class DurablePublisher {

  /** Subjects whose actors one connection keeps attached. */
  static final int MAX_HELD_SUBJECTS = 1024;
  private static final byte[] MSG_ID = "nats-msg-id:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EXPECTED_LAST_SEQUENCE = "nats-expected-last-sequence:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EXPECTED_LAST_SUBJECT_SEQUENCE =
      "nats-expected-last-subject-sequence:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EXPECTED_LAST_MSG_ID = "nats-expected-last-msg-id:".getBytes(StandardCharsets.US_ASCII);
  private static final byte[] EXPECTED_STREAM = "nats-expected-stream:".getBytes(StandardCharsets.US_ASCII);

  /** One subject's actor as this connection holds it, and the publishes waiting to go to it. */
  private static final class Held {
    StreamActor actor;
    boolean attaching;
    List<StreamActor.Call<?>> calls = new ArrayList<>();
  }

  /**
   * The publishes read between two {@code PING}s: {@code outstanding} counts them plus one while
   * no {@code PING} has closed it; {@code pongs} are the closing {@code PING} and any that followed
   * with no publish between them.
   */
  private static final class PingBarrier {
    final AtomicInteger outstanding = new AtomicInteger(1);
    int pongs;
  }

  /** A publish forwarded to the subject's leader, and where its PubAck goes. */
  private record Forward(ClusterPublishes.Publish publish, String reply, int bytes, PingBarrier barrier) {
  }

  private final NatsConnection connection;
  private final NatsServer server;
  private final MemoryBudget budget;
  private final int maxPending;
  private final LinkedHashMap<String, Held> held = new LinkedHashMap<>(16, 0.75f, true);
  private final List<Held> turn = new ArrayList<>();
  /** Cluster mode: this read's publishes to subjects another node leads, by subject, in order. */
  private final LinkedHashMap<String, List<Forward>> forwards = new LinkedHashMap<>();
  private final AtomicInteger pending = new AtomicInteger();
  private volatile boolean paused;
  /** The match of this connection's reply inboxes, so a PubAck needs no index lookup of its own. */
  private final CoreDelivery.ReplyFamily replies = new CoreDelivery.ReplyFamily();
  private boolean closed;
  private PingBarrier open = new PingBarrier();
  /** Closed barriers whose PONGs wait for their publishes, oldest first: at most one per pending publish, plus one. */
  private final ArrayDeque<PingBarrier> waitingPongs = new ArrayDeque<>();

  DurablePublisher(NatsConnection connection) {
    this.connection = connection;
    this.server = connection.server;
    this.budget = server.budget;
    this.maxPending = server.config.maxPendingRequests();
  }

  /** Queues a publish; it reaches the actor at the next {@link #flush}. */
  void publish(String subject, String reply, byte[] headers, byte[] payload) {
    long expectedLast = -1;
    String expectedLastKey = null;
    String dedupKey = null;
    if (headers != null) {
      String expectedStream = NatsStored.header(headers, 0, headers.length, EXPECTED_STREAM);
      if (expectedStream != null && !expectedStream.equals(server.jetStream.streamName(subject))) {
        server.delivery.answer(reply, JetStreamErrors.json(400, 10060, "expected stream does not match"));
        return;
      }
      String last = NatsStored.header(headers, 0, headers.length, EXPECTED_LAST_SEQUENCE);
      if (last == null) {
        last = NatsStored.header(headers, 0, headers.length, EXPECTED_LAST_SUBJECT_SEQUENCE);
      }
      if (last != null) {
        try {
          expectedLast = Long.parseLong(last);
        } catch (NumberFormatException e) {
          server.delivery.answer(reply,
              JetStreamErrors.json(400, 10071, "invalid Nats-Expected-Last-Sequence: " + last));
          return;
        }
      }
      dedupKey = NatsStored.dedupKey(NatsStored.header(headers, 0, headers.length, MSG_ID));
      String lastId = NatsStored.header(headers, 0, headers.length, EXPECTED_LAST_MSG_ID);
      expectedLastKey = lastId == null ? null : NatsStored.dedupKey(lastId);
    }
    byte[] stored = NatsStored.encode(headers, payload);
    if (!budget.tryReserve(stored.length)) {
      server.metrics.overloaded.increment();
      server.delivery.answer(reply, JetStreamErrors.json(503, 10077, MemoryBudget.EXHAUSTED_MESSAGE));
      return;
    }
    if (pending.incrementAndGet() >= maxPending && !paused) {
      paused = true;
      connection.transport().pause();
    }
    PingBarrier barrier = open;
    barrier.outstanding.incrementAndGet();
    if (server.cluster != null && server.cluster.remote(subject)) {
      forwards.computeIfAbsent(subject, s -> new ArrayList<>()).add(new Forward(
          new ClusterPublishes.Publish(stored, dedupKey, expectedLast, expectedLastKey), reply, stored.length, barrier));
      return;
    }
    StreamActor.Call<Published> call = new StreamActor.Call<>(step(stored, dedupKey, expectedLast, expectedLastKey),
        (published, failure) -> done(subject, reply, stored.length, barrier, published, failure));
    Held subjectHeld = held(subject);
    if (subjectHeld.calls.isEmpty()) {
      turn.add(subjectHeld);
    }
    subjectHeld.calls.add(call);
  }

  /**
   * The actor's step of one publish: the {@code Nats-Expected-Last-*} checks, then the append, at
   * most once per dedup key within the window.
   */
  static SubjectStep<Published> step(byte[] stored, String dedupKey, long expectedLast, String expectedLastKey) {
    return tx -> {
      if (expectedLast >= 0 && tx.lastSequence() != expectedLast) {
        throw StreamError.conflict("wrong_last_sequence", "wrong last sequence: " + tx.lastSequence());
      }
      if (expectedLastKey != null && !expectedLastKey.equals(tx.lastDedupKey())) {
        String actual = tx.lastDedupKey();
        throw StreamError.conflict("wrong_last_msg_id", "wrong last msg ID: " + (actual == null ? "" : actual.substring(1)));
      }
      return tx.appendOnce(dedupKey, sequence -> stored);
    };
  }

  /**
   * Sends the publishes of this read to their actors, one task per subject; in cluster mode those to
   * subjects another node leads go there, one request per subject ({@link ClusterPublishes#forward}).
   */
  void flush() {
    if (!forwards.isEmpty()) {
      forwards.forEach((subject, list) -> {
        List<Future<Published>> outcomes = server.cluster.forward(subject,
            list.stream().map(Forward::publish).toList());
        for (int i = 0; i < list.size(); i++) {
          Forward forward = list.get(i);
          outcomes.get(i).onComplete(ar -> done(subject, forward.reply(), forward.bytes(), forward.barrier(),
              ar.result(), ar.cause()));
        }
      });
      forwards.clear();
    }
    for (Held subject : turn) {
      if (subject.actor != null && !subject.calls.isEmpty()) {
        List<StreamActor.Call<?>> calls = subject.calls;
        subject.calls = new ArrayList<>();
        subject.actor.call(calls);
      }
    }
    turn.clear();
  }

  private Held held(String subject) {
    Held existing = held.get(subject);
    if (existing != null) {
      return existing;
    }
    Held fresh = new Held();
    held.put(subject, fresh);
    fresh.attaching = true;
    server.registry.attach(subject, connection.context).onComplete(ar -> attached(subject, fresh, ar.result(),
        ar.cause()));
    letGoOfSurplus();
    return fresh;
  }

  private void attached(String subject, Held entry, StreamActor actor, Throwable failure) {
    entry.attaching = false;
    List<StreamActor.Call<?>> waiting = entry.calls;
    entry.calls = new ArrayList<>();
    if (failure != null) {
      held.remove(subject, entry);
      waiting.forEach(call -> call.onDone().accept(null, failure));
      return;
    }
    if (closed) {
      actor.detach();
      waiting.forEach(call -> call.onDone().accept(null, StreamError.gone("closed", "the connection closed")));
      return;
    }
    entry.actor = actor;
    if (!waiting.isEmpty()) {
      actor.call(waiting);
    }
  }

  /** Lets go of the least recently used subjects past the bound, if nothing waits for them. */
  private void letGoOfSurplus() {
    Iterator<Map.Entry<String, Held>> eldest = held.entrySet().iterator();
    while (held.size() > MAX_HELD_SUBJECTS && eldest.hasNext()) {
      Held candidate = eldest.next().getValue();
      if (candidate.actor != null && candidate.calls.isEmpty()) {
        candidate.actor.detach();
        eldest.remove();
      }
    }
  }

  /** Cluster mode: the subject's actor here was deposed; the next publish looks for the leader again. */
  private void letGo(String subject) {
    Held stale = held.get(subject);
    if (stale != null && stale.actor != null && stale.calls.isEmpty()) {
      held.remove(subject);
      stale.actor.detach();
    }
  }

  /** The connection closed: every held actor is let go (publishes already sent still complete). */
  void close() {
    closed = true;
    for (Held subject : held.values()) {
      if (subject.actor != null) {
        subject.actor.detach();
      }
    }
    held.clear();
  }

  /** A {@code PING} was read: its PONG goes once the publishes read before it are durable or refused. */
  void ping() {
    if (open.outstanding.get() == 1) { // no publish since the last PING
      if (waitingPongs.isEmpty()) {
        connection.answerPing();
      } else {
        waitingPongs.peekLast().pongs++; // the same wait as that PING's
      }
      return;
    }
    PingBarrier closing = open;
    open = new PingBarrier();
    closing.pongs = 1;
    waitingPongs.add(closing);
    if (closing.outstanding.decrementAndGet() == 0) {
      answerPings();
    }
  }

  /** On the connection's context: sends the PONGs, in order, whose publishes are all done. */
  private void answerPings() {
    while (!waitingPongs.isEmpty() && waitingPongs.peekFirst().outstanding.get() == 0) {
      for (int i = waitingPongs.pollFirst().pongs; i > 0; i--) {
        connection.answerPing();
      }
    }
  }

  /** On the actor's context: the publish is durable (or failed); its PubAck goes out. */
  private void done(String subject, String reply, int bytes, PingBarrier barrier, Published published,
      Throwable failure) {
    budget.release(bytes);
    if (barrier.outstanding.decrementAndGet() == 0) {
      connection.context.runOnContext(v -> answerPings());
    }
    if (failure instanceof StreamError error && "not_leader".equals(error.code())) {
      connection.context.runOnContext(v -> letGo(subject));
    }
    if (pending.decrementAndGet() <= maxPending / 2 && paused) {
      connection.context.runOnContext(v -> {
        if (paused && pending.get() <= maxPending / 2) {
          paused = false;
          connection.transport().resume();
        }
      });
    }
    if (reply == null) {
      return;
    }
    if (failure != null) {
      server.delivery.answer(reply, JetStreamErrors.of(failure));
      return;
    }
    StringBuilder ack = new StringBuilder(64).append("{\"stream\":")
        .append(JetStreamErrors.quote(server.jetStream.streamName(subject))).append(",\"seq\":")
        .append(published.sequence());
    if (published.duplicate()) {
      ack.append(",\"duplicate\":true");
    }
    server.delivery.reply(replies, reply, ack.append('}').toString().getBytes(StandardCharsets.UTF_8));
  }
}
