package io.dstream.broker.nats;

import io.dstream.broker.stream.DurableTap;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StoredObject;
import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;

/**
 * Core NATS delivery: a message goes to every plain subscription its subject matches and to one
 * member of each matching queue group. Durable messages arrive from the stream actors through the
 * {@link DurableTap} (so protocol v1 and HTTP publishes reach NATS subscribers too); ephemeral ones,
 * replies and acks are routed directly. Each connection gets one write per batch.
 *
 * <p>Thread-safe: called from the actors' and the connections' contexts.
 */
final class CoreDelivery implements DurableTap {

  /** A {@code MSG} line's bytes besides its subject, reply and payload: the verb, sid, counts, line ends. */
  private static final int FRAMING = 48;

  /**
   * The other nodes' subscriptions, in cluster mode: JetStream's deliveries, made on the node leading
   * the stream, reach a consumer's subscribers wherever they are connected.
   */
  interface Elsewhere {
    /** Whether a subscription on another node matches {@code target}. */
    boolean listening(String target);

    /** Delivers a message of {@code subject} to the other nodes' subscriptions matching {@code target}; false if none. */
    boolean deliver(String target, SubjectIndex.Match local, String subject, String reply, byte[] headers,
                    byte[] payload);
  }

  private final SubjectIndex index;
  private volatile Elsewhere elsewhere;

  CoreDelivery(SubjectIndex index) {
    this.index = index;
  }

  /** Cluster mode: JetStream deliveries also go to the other nodes' subscriptions. */
  void reachElsewhere(Elsewhere others) {
    this.elsewhere = others;
  }

  @Override
  public boolean listening(String subject) {
    return !index.match(subject).isEmpty();
  }

  @Override
  public void durable(String subject, List<Published> messages) {
    durable(subject, messages, QueueGroups.ALL);
  }

  /** Delivers a durable batch to the plain subscriptions and to the queue groups of {@code groups}. */
  void durable(String subject, List<Published> messages, QueueGroups groups) {
    SubjectIndex.Match match = index.match(subject);
    if (match.isEmpty() || messages.isEmpty()) {
      return;
    }
    Map<NatsConnection, Buffer> batches = new IdentityHashMap<>();
    // Sized up front: a buffer that grows while it is written copies itself each time.
    int batchBytes = 0;
    for (Published message : messages) {
      batchBytes += message.stored().length + subject.length() + FRAMING;
    }
    int initial = batchBytes;
    for (Published message : messages) {
      byte[] stored = message.stored();
      byte[] headers = StoredObject.natsHeaders(stored);
      byte[] payload = StoredObject.natsPayload(stored);
      forEachTarget(match, groups, subscription -> subscription.connection.encode(
          batches.computeIfAbsent(subscription.connection, c -> Buffer.buffer(initial)), subscription, subject, null,
          headers, payload));
    }
    batches.forEach(NatsConnection::send);
  }

  /** Sends a state change to the watches of {@code subject} ({@link StateApi#WATCH}). */
  @Override
  public void stateChanged(String subject, byte[] stateJson, long revision) {
    SubjectIndex.Match match = index.match(StateApi.WATCH + subject);
    if (!match.isEmpty()) {
      forEachTarget(match, QueueGroups.ALL, subscription -> sendState(subscription, subject, stateJson, revision,
          false));
    }
  }

  /** Sends the state of {@code subject} to one watch: its first message, the state when a literal watch starts. */
  void stateTo(Subscription subscription, String subject, byte[] stateJson, long revision) {
    offer(subscription, target -> sendState(target, subject, stateJson, revision, true));
  }

  private static void sendState(Subscription subscription, String subject, byte[] stateJson, long revision,
                                boolean first) {
    subscription.deliverState(revision, first, () -> {
      byte[] headers = StateApi.watchHeaders(subject, revision);
      String watched = StateApi.WATCH + subject;
      Buffer one = Buffer.buffer(stateJson.length + headers.length + watched.length() + FRAMING);
      subscription.connection.encode(one, subscription, watched, null, headers, stateJson);
      subscription.connection.send(one);
    });
  }

  /**
   * Delivers one message not stored (an ephemeral subject, a reply, an API answer) to what
   * {@code subject} matches; false when nothing does.
   */
  boolean route(String subject, String reply, byte[] headers, byte[] payload) {
    return route(index.match(subject), subject, reply, headers, payload);
  }

  /** Answers a request (an API call, a refused publish) with {@code json} on its reply subject, if it has one. */
  void answer(String reply, String json) {
    if (reply != null) {
      route(reply, null, null, json.getBytes(StandardCharsets.UTF_8));
    }
  }

  /**
   * Delivers a reply (a PubAck) to {@code reply}, with the match of its family
   * ({@link SubjectIndex#familyMatch}) kept by {@code holder} until the subscriptions change.
   */
  void reply(ReplyFamily holder, String reply, byte[] payload) {
    int dot = reply.lastIndexOf('.');
    SubjectIndex.Match match = null;
    if (dot > 0) {
      String prefix = reply.substring(0, dot);
      long generation = index.generation();
      ReplyFamily.Known known = holder.known;
      if (known == null || known.generation() != generation || !known.prefix().equals(prefix)) {
        known = new ReplyFamily.Known(prefix, generation, index.familyMatch(prefix));
        holder.known = known;
      }
      match = known.match();
    }
    route(match != null ? match : index.match(reply), reply, null, null, payload);
  }

  /** What one publisher's replies last matched (see {@link #reply}); thread-safe by replacement. */
  static final class ReplyFamily {
    record Known(String prefix, long generation, SubjectIndex.Match match) {
    }

    private volatile Known known;
  }

  /**
   * Delivers a message of {@code subject} to the subscriptions of another subject ({@code match}:
   * a consumer's deliver subject or a pull request's inbox), as JetStream does: the message keeps
   * its own subject.
   */
  boolean route(SubjectIndex.Match match, String subject, String reply, byte[] headers, byte[] payload) {
    return route(match, QueueGroups.ALL, subject, reply, headers, payload);
  }

  /** As {@link #route(SubjectIndex.Match, String, String, byte[], byte[])}, to the queue groups of {@code groups} only. */
  boolean route(SubjectIndex.Match match, QueueGroups groups, String subject, String reply, byte[] headers,
                byte[] payload) {
    if (match.isEmpty()) {
      return false;
    }
    forEachTarget(match, groups, subscription -> {
      Buffer one = Buffer.buffer(payload.length + (headers == null ? 0 : headers.length) + subject.length()
          + (reply == null ? 0 : reply.length()) + FRAMING);
      subscription.connection.encode(one, subscription, subject, reply, headers, payload);
      subscription.connection.send(one);
    });
    return true;
  }

  /**
   * One subject delivered to again and again (a push consumer's deliver subject, a pull request's
   * inbox), with its match kept until the subscriptions change: inboxes are not cached by the index,
   * and a consumer asks before every message. Thread-safe.
   */
  final class Target {
    private final String subject;
    private volatile SubjectIndex.Match match;
    private volatile long generation = -1;

    Target(String subject) {
      this.subject = subject;
    }

    SubjectIndex.Match match() {
      long now = index.generation();
      if (now != generation) {
        match = index.match(subject);
        generation = now;
      }
      return match;
    }

    boolean listening() {
      Elsewhere others = elsewhere;
      return !match().isEmpty() || others != null && others.listening(subject);
    }

    /** Delivers a message of {@code messageSubject} here; false when nobody listens any more. */
    boolean deliver(String messageSubject, String reply, byte[] headers, byte[] payload) {
      SubjectIndex.Match local = match();
      Elsewhere others = elsewhere;
      boolean remote = others != null && others.deliver(subject, local, messageSubject, reply, headers, payload);
      return route(local, messageSubject, reply, headers, payload) || remote;
    }

    /** A status message (heartbeat, end of a pull), which carries this subject. */
    void status(byte[] headers) {
      deliver(subject, null, headers, new byte[0]);
    }
  }

  private void forEachTarget(SubjectIndex.Match match, QueueGroups groups, Consumer<Subscription> deliver) {
    for (Subscription subscription : match.plain()) {
      offer(subscription, deliver);
    }
    for (List<Subscription> group : match.queues()) {
      if (!groups.serves(group.get(0).queue())) {
        continue;
      }
      int start = ThreadLocalRandom.current().nextInt(group.size());
      for (int i = 0; i < group.size(); i++) {
        if (offer(group.get((start + i) % group.size()), deliver)) {
          break;
        }
      }
    }
  }

  /** Delivers unless the subscription's {@code UNSUB} bound is used up; removes it once it is. */
  private boolean offer(Subscription subscription, Consumer<Subscription> deliver) {
    if (!subscription.take()) {
      return false;
    }
    deliver.accept(subscription);
    if (subscription.exhausted()) {
      subscription.connection.expired(subscription);
    }
    return true;
  }
}
