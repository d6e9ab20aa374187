package io.dstream.broker.nats;

import io.dstream.broker.cluster.Wire;
import io.dstream.broker.stream.Published;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Core NATS across the nodes of a cluster (docs/cluster.md): which node's connections subscribe to
 * what, and the core messages sent to them over the clustered event bus, as nats-server's routes do.
 *
 * <ul>
 *   <li><b>Interest.</b> Each node publishes its subscriptions' patterns and queue groups
 *   ({@link PeerInterests.Announcement}) when they change (checked every 100 ms) and every second,
 *   since the event bus may drop one.</li>
 *   <li><b>Ephemeral publishes</b> ({@code DSTREAM_NATS_EPHEMERAL}: requests, replies) go to every
 *   node whose announcement matches, at most once per node and so per subscription, with the queue
 *   groups that node serves. As in core NATS a message lost on the way is lost (at most once).</li>
 *   <li><b>Durable batches</b> go from the subject's leader to every node whose announcement
 *   matches, with the queue groups that node serves, once the leader's actor has them.</li>
 *   <li><b>Reply routes.</b> A request forwarded here names its node; until that node's
 *   announcement covers the reply subject (a requester's inbox is announced up to a tick after its
 *   first request) a reply to it goes back there anyway. At most {@link #MAX_REPLY_ROUTES}, each for
 *   {@link #REPLY_ROUTE_MS}; beyond, such a reply is lost and the request times out.</li>
 * </ul>
 *
 * <p>Threading: the event-bus handlers run on the context that started this; forwarding runs on the
 * publishing connection's or actor's context. Nothing here blocks.
 */
final class ClusterInterest implements CoreDelivery.Elsewhere {

  static final int MAX_REPLY_ROUTES = 10_000;
  static final long REPLY_ROUTE_MS = 5_000;
  private static final String ANNOUNCEMENTS = "dstream.cluster.interest";
  private static final long ANNOUNCE_CHECK_MS = 100;
  private static final long ANNOUNCE_EVERY_MS = 1_000;

  private record ReplyRoute(String node, long expiresMs) {
  }

  private final NatsServer server;
  private final Vertx vertx;
  private final String nodeId;
  private final PeerInterests peers = new PeerInterests();
  /** Reply subject to the node of the request that carried it, while that node's announcement lacks it. */
  private final Map<String, ReplyRoute> replyRoutes = new ConcurrentHashMap<>();
  private long announcedGeneration = -1;
  private long lastAnnounceMs;

  ClusterInterest(NatsServer server, Vertx vertx, String nodeId) {
    this.server = server;
    this.vertx = vertx;
    this.nodeId = nodeId;
  }

  private static String tapAddress(String node) {
    return "dstream.node." + node + ".tap";
  }

  private static String stateAddress(String node) {
    return "dstream.node." + node + ".state";
  }

  private static String coreAddress(String node) {
    return "dstream.node." + node + ".core";
  }

  void start() {
    vertx.eventBus().<Buffer>consumer(tapAddress(nodeId), message -> tapped(message.body()));
    vertx.eventBus().<Buffer>consumer(coreAddress(nodeId), message -> received(message.body()));
    vertx.eventBus().<Buffer>consumer(stateAddress(nodeId), message -> stateReceived(message.body()));
    vertx.eventBus().<JsonObject>consumer(ANNOUNCEMENTS, message -> heard(message.body()));
    vertx.setPeriodic(ANNOUNCE_CHECK_MS, id -> {
      announceIfChanged();
      if (!replyRoutes.isEmpty()) {
        long now = System.currentTimeMillis();
        replyRoutes.values().removeIf(route -> route.expiresMs() <= now);
      }
    });
  }

  // ---- ephemeral publishes --------------------------------------------------------------------

  /**
   * Sends an ephemeral publish to the other nodes that listen to {@code subject}; {@code local} is
   * what it matches here (its queue groups are served here). False when no other node listens, as
   * far as their announcements tell.
   */
  boolean forward(String subject, String reply, byte[] headers, byte[] payload, SubjectIndex.Match local) {
    return deliver(subject, local, subject, reply, headers, payload);
  }

  /** Whether another node listens to {@code target}; per append, so it must be cheap. */
  @Override
  public boolean listening(String target) {
    long now = System.currentTimeMillis();
    if (peers.listening(target, now)) {
      return true;
    }
    ReplyRoute route = replyRoutes.isEmpty() ? null : replyRoutes.get(target);
    return route != null && route.expiresMs() > now;
  }

  /**
   * Sends a message of {@code subject} to the other nodes' subscriptions of {@code target} (the
   * subject itself, or a JetStream consumer's deliver subject or pull inbox, which keeps the
   * message's own subject as JetStream does).
   */
  @Override
  public boolean deliver(String target, SubjectIndex.Match local, String subject, String reply, byte[] headers,
                         byte[] payload) {
    long now = System.currentTimeMillis();
    Map<String, QueueGroups> targets = peers.targets(target, local.groups(), now);
    ReplyRoute route = replyRoutes.isEmpty() ? null : replyRoutes.get(target);
    if (route != null && route.expiresMs() > now && !targets.containsKey(route.node())) {
      targets = new HashMap<>(targets);
      targets.put(route.node(), QueueGroups.NONE);
    }
    if (targets.isEmpty()) {
      return false;
    }
    targets.forEach((node, groups) -> {
      Buffer message = Buffer.buffer(payload.length + (headers == null ? 0 : headers.length) + subject.length()
          + target.length() + 64);
      Wire.string(message, nodeId);
      Wire.string(message, target);
      Wire.string(message, subject);
      Wire.string(message, reply);
      Wire.bytes(message, headers);
      Wire.bytes(message, payload);
      groups(message, groups);
      vertx.eventBus().send(coreAddress(node), message);
    });
    return true;
  }

  /**
   * A request forwarded here from {@code node} has {@code reply}: answers to it go back there until
   * that node's announcement covers it (bounded as the class comment says).
   */
  void replyTo(String reply, String node) {
    long now = System.currentTimeMillis();
    if (reply != null && replyRoutes.size() < MAX_REPLY_ROUTES && !peers.listens(node, reply, now)) {
      replyRoutes.put(reply, new ReplyRoute(node, now + REPLY_ROUTE_MS));
    }
  }

  private void received(Buffer message) {
    int[] at = {0};
    String origin = Wire.string(message, at);
    String target = Wire.string(message, at);
    String subject = Wire.string(message, at);
    String reply = Wire.string(message, at);
    byte[] headers = Wire.bytes(message, at);
    byte[] payload = Wire.bytes(message, at);
    QueueGroups groups = groups(message, at);
    replyTo(reply, origin);
    server.delivery.route(server.index.match(target), groups, subject, reply, headers, payload);
  }

  // ---- durable batches from a leader ----------------------------------------------------------

  /** A leader's durable batch goes to every other node listening to its subject. */
  void relay(String subject, List<Published> messages) {
    if (messages.isEmpty()) {
      return;
    }
    Map<String, QueueGroups> targets = peers.targets(subject, server.index.match(subject).groups(),
        System.currentTimeMillis());
    if (targets.isEmpty()) {
      return;
    }
    int bytes = subject.length() + 16;
    for (Published message : messages) {
      bytes += message.stored().length + 20;
    }
    int size = bytes;
    targets.forEach((node, groups) -> {
      Buffer batch = Buffer.buffer(size);
      Wire.string(batch, subject);
      groups(batch, groups);
      Wire.messages(batch, messages);
      vertx.eventBus().send(tapAddress(node), batch);
    });
  }

  private void tapped(Buffer batch) {
    int[] at = {0};
    String subject = Wire.string(batch, at);
    QueueGroups groups = groups(batch, at);
    server.delivery.durable(subject, Wire.messages(batch, at), groups);
  }

  // ---- state changes from a leader ------------------------------------------------------------

  /** A subject's state changed on its leader: to every other node watching it ({@link StateApi#WATCH}). */
  void relayState(String subject, byte[] stateJson, long revision) {
    String watch = StateApi.WATCH + subject;
    long now = System.currentTimeMillis();
    // The common case, nobody watching elsewhere, costs no target map.
    if (!peers.listening(watch, now)) {
      return;
    }
    peers.targets(watch, Set.of(), now).keySet().forEach(node -> {
      Buffer change = Buffer.buffer(subject.length() + stateJson.length + 24);
      Wire.string(change, subject);
      Wire.bytes(change, stateJson);
      change.appendLong(revision);
      vertx.eventBus().send(stateAddress(node), change);
    });
  }

  private void stateReceived(Buffer change) {
    int[] at = {0};
    String subject = Wire.string(change, at);
    byte[] stateJson = Wire.bytes(change, at);
    server.delivery.stateChanged(subject, stateJson, change.getLong(at[0]));
  }

  /** {@code byte others | int count | count strings}. */
  private static void groups(Buffer out, QueueGroups groups) {
    out.appendByte((byte) (groups.others() ? 1 : 0)).appendInt(groups.named().size());
    groups.named().forEach(group -> Wire.string(out, group));
  }

  private static QueueGroups groups(Buffer in, int[] at) {
    boolean others = in.getByte(at[0]) == 1;
    int count = in.getInt(at[0] + 1);
    at[0] += 5;
    if (count == 0) {
      return others ? QueueGroups.ALL : QueueGroups.NONE;
    }
    Set<String> named = new HashSet<>();
    for (int i = 0; i < count; i++) {
      named.add(Wire.string(in, at));
    }
    return new QueueGroups(others, named);
  }

  // ---- announcements --------------------------------------------------------------------------

  private void announceIfChanged() {
    long generation = server.index.generation();
    long now = System.currentTimeMillis();
    if (generation == announcedGeneration && now - lastAnnounceMs < ANNOUNCE_EVERY_MS) {
      return;
    }
    announcedGeneration = generation;
    lastAnnounceMs = now;
    vertx.eventBus().publish(ANNOUNCEMENTS, PeerInterests.Announcement.of(nodeId, server.index).toJson());
  }

  private void heard(JsonObject json) {
    PeerInterests.Announcement announcement = PeerInterests.Announcement.fromJson(json);
    if (announcement.node() != null && !announcement.node().equals(nodeId)) {
      peers.heard(announcement, System.currentTimeMillis());
    }
  }
}
