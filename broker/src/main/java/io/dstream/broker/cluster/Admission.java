package io.dstream.broker.cluster;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import org.apache.ratis.proto.RaftProtos.LogEntryProto.LogEntryBodyCase;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftPeer;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.protocol.SetConfigurationRequest;
import org.apache.ratis.server.RaftConfiguration;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.raftlog.LogEntryHeader;
import org.apache.ratis.server.raftlog.RaftLog;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How a replica enters a partition's Raft group without counting before it holds the partition
 * (docs/cluster.md, "A wiped node rejoins without a vote").
 *
 * <p>Raft assumes a voter never forgets what it wrote or whom it voted for. A node whose data
 * directory was wiped has forgotten both: voting before it has caught up (Ratis ignores only the
 * vote of an empty log), it and a lagging third replica could elect that replica and lose what only
 * the wiped disk and a lost leader held. So a node that finds a partition's group missing at start
 * creates it only once it knows which case it is in:
 * <ul>
 *   <li>it asks the partition's other replicas whether they hold any entry of it. If none does, and
 *   with itself a majority answered, the partition is new (or never written): it joins as a voter,
 *   and asks the leader for one empty entry, for the reason below;</li>
 *   <li>if one does, it asks the leader to make it a <em>listener</em> first. That configuration
 *   change commits on the other voters, so both hold everything the node acknowledged before its
 *   wipe; only then does the node create its group, as a listener, which replays or copies like a
 *   follower and never votes;</li>
 *   <li>a listener asks the leader, every tick, to be a voter again. The leader agrees once it lags by
 *   at most {@link #PROMOTE_WITHIN} entries, by the leader's count and by the applied index the
 *   listener reports (the leader's count starts from what the replica matched before its wipe);
 *   until then it appends an empty entry. Ratis 3.2.2's leader never moves a replica's next index
 *   below the index that replica matched before unless a refused append carried entries, so
 *   without one an idle partition would never be replayed to it.</li>
 * </ul>
 * While a replica listens, its partition has two voters, both needed: losing either stops the
 * partition's writes until it is back. Safety over availability, as Kafka's KRaft with its voters'
 * directory ids. A partition of two replicas is entered as a voter: it has no third replica to lag.
 */
final class Admission {

  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);
  private static final long TICK_MS = 1_000;
  /** A listener this close to its leader's applied index becomes a voter. */
  private static final long PROMOTE_WITHIN = 16;
  /** A partition's wait is logged once it has lasted this long, then at most every {@link #WAITING_LOG_EVERY_MS}. */
  private static final long WAITING_LOG_AFTER_MS = 5_000;
  private static final long WAITING_LOG_EVERY_MS = 30_000;
  /** Log entry headers read at a time when looking for a state machine entry. */
  private static final int SCAN = 256;

  private final Vertx vertx;
  private final String self;
  private final Placement placement;
  private final ReplicaWriter replicas;
  private final ReplicatedWriter writer;
  private final Leadership leadership;
  private final RaftServer server;
  private final long answeredWithinMs;
  private final DeliveryOptions requests;
  /** Held partitions whose group this node has not created yet. */
  private final Set<Integer> absent = ConcurrentHashMap.newKeySet();
  /** Partitions this node joined empty as a voter, until their leader has sent it an entry. */
  private final Set<Integer> joined = ConcurrentHashMap.newKeySet();
  /** Partitions with a request of this node under way: one at a time each. */
  private final Set<Integer> busy = ConcurrentHashMap.newKeySet();
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong calls = new AtomicLong();
  /** Since when each partition has waited, and when that was last logged. */
  private final Map<Integer, long[]> waits = new ConcurrentHashMap<>();
  private long timer = -1;

  /**
   * {@code answeredWithin}: how recently a replica must have answered its leader to count as live
   * (the maximum election timeout); {@code timeout}: how long a request to another node may take.
   */
  Admission(Vertx vertx, RaftServer server, Placement placement, ReplicaWriter replicas, ReplicatedWriter writer,
      Leadership leadership, Duration answeredWithin, Duration timeout) {
    this.vertx = vertx;
    this.server = server;
    this.self = server.getId().toString();
    this.placement = placement;
    this.replicas = replicas;
    this.writer = writer;
    this.leadership = leadership;
    this.answeredWithinMs = answeredWithin.toMillis();
    this.requests = new DeliveryOptions().setSendTimeout(timeout.toMillis());
  }

  private static String address(String node) {
    return "dstream.node." + node + ".admission";
  }

  /** Answers the other nodes, and enters {@code missing} (held partitions without a group here) as above. */
  void start(Set<Integer> missing) {
    absent.addAll(missing);
    vertx.eventBus().<JsonObject>consumer(address(self), this::answer);
    timer = vertx.setPeriodic(0, TICK_MS, id -> tick());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private void tick() {
    vertx.executeBlocking(this::asking, false).onSuccess(asking -> {
      for (int p : List.copyOf(absent)) {
        if (busy.add(p)) {
          enter(p).onComplete(ar -> busy.remove(p));
        }
      }
      asking.forEach((p, applied) -> {
        if (busy.add(p)) {
          promote(p, applied).onComplete(ar -> busy.remove(p));
        }
      });
    });
  }

  /**
   * The partitions whose leader this node has something to ask (a listener, or a voter that joined
   * empty), with the index each applied. Blocking: a division may be starting.
   */
  private Map<Integer, Long> asking() {
    Map<Integer, Long> asking = new HashMap<>();
    for (int p = 0; p < placement.partitions(); p++) {
      if (placement.holds(p) && !absent.contains(p)) {
        try {
          RaftServer.Division division = server.getDivision(placement.groupId(p));
          if (joined.contains(p) || division.getRaftConf().getPeer(server.getId(), RaftPeerRole.LISTENER) != null) {
            asking.put(p, division.getInfo().getLastAppliedIndex());
          }
        } catch (IOException e) {
          LOG.debug("partition {}: no Raft division here: {}", p, e.toString());
        }
      }
    }
    return asking;
  }

  private Future<Void> enter(int partition) {
    List<Future<Boolean>> answers = new ArrayList<>();
    for (String node : others(partition)) {
      answers.add(ask(node, "holds", partition).map(reply -> reply.getBoolean("holds")));
    }
    return Future.join(answers).transform(ignored -> {
      int empty = 0;
      List<String> holders = new ArrayList<>();
      for (int i = 0; i < answers.size(); i++) {
        Future<Boolean> answer = answers.get(i);
        if (answer.succeeded() && answer.result()) {
          holders.add(others(partition).get(i));
        } else if (answer.succeeded()) {
          empty++;
        }
      }
      if (!holders.isEmpty() && placement.peersOf(partition).size() >= 3) {
        return listen(partition, holders);
      }
      if (!holders.isEmpty()) {
        // Two replicas (a two-node cluster) need both for any change, so this one cannot stand
        // aside first; nor is there a third that could lag and be elected with its vote.
        LOG.info("partition {}: {} holds it; joined as a voter (two replicas)", partition, holders);
        return create(partition, false);
      }
      if (empty + 1 >= placement.peersOf(partition).size() / 2 + 1) {
        LOG.info("partition {}: no other replica holds any of it; joined as a voter", partition);
        return create(partition, false);
      }
      waiting(partition, "too few other replicas answered to tell a new partition from a wiped replica: {}",
          failures(answers));
      return Future.succeededFuture();
    });
  }

  /** Asks the partition's leader, whichever node it is, to make this node a listener; then creates the group as one. */
  private Future<Void> listen(int partition, List<String> holders) {
    List<Future<JsonObject>> asked = new ArrayList<>();
    for (String node : others(partition)) {
      asked.add(ask(node, "listen", partition));
    }
    return Future.any(asked).transform(ar -> {
      if (ar.failed()) {
        waiting(partition, "{} hold it, and no leader made this empty replica a listener yet: {}", holders,
            failures(asked));
        return Future.succeededFuture();
      }
      LOG.info("partition {}: {} hold it; joined as a listener, a voter again once caught up", partition, holders);
      return create(partition, true);
    });
  }

  private Future<Void> promote(int partition, long applied) {
    List<Future<JsonObject>> asked = new ArrayList<>();
    for (String node : others(partition)) {
      JsonObject body = request("vote", partition).put("applied", applied);
      asked.add(vertx.eventBus().<JsonObject>request(address(node), body, requests).map(Message::body));
    }
    return Future.any(asked).transform(ar -> {
      if (ar.failed()) {
        waiting(partition, "its leader has not taken it as a voter yet: {}", failures(asked));
        return Future.succeededFuture();
      }
      waits.remove(partition);
      joined.remove(partition);
      if (asked.stream().anyMatch(f -> f.succeeded() && f.result().getBoolean("promoted", false))) {
        LOG.info("partition {}: caught up; a voting replica again", partition);
      }
      return Future.succeededFuture();
    });
  }

  private Future<Void> create(int partition, boolean asListener) {
    return vertx.executeBlocking(() -> {
      RaftGroup group = placement.group(partition);
      if (asListener) {
        List<RaftPeer> peers = new ArrayList<>();
        for (RaftPeer peer : group.getPeers()) {
          peers.add(peer.getId().equals(server.getId())
              ? RaftPeer.newBuilder(peer).setStartupRole(RaftPeerRole.LISTENER).build() : peer);
        }
        group = RaftGroup.valueOf(group.getGroupId(), peers);
      }
      RaftClientReply added = server.groupManagement(GroupManagementRequest.newAdd(clientId, server.getId(),
          calls.incrementAndGet(), group));
      if (!added.isSuccess()) {
        throw new IOException("cannot create the Raft group of partition " + partition + ": " + added.getException());
      }
      if (!asListener) {
        joined.add(partition);
      }
      absent.remove(partition);
      waits.remove(partition);
      return null;
    }, false);
  }

  private List<String> others(int partition) {
    List<String> others = new ArrayList<>(placement.peersOf(partition));
    others.remove(self);
    return others;
  }

  private Future<JsonObject> ask(String node, String op, int partition) {
    return vertx.eventBus().<JsonObject>request(address(node), request(op, partition), requests).map(Message::body);
  }

  private JsonObject request(String op, int partition) {
    return new JsonObject().put("op", op).put("partition", partition).put("node", self);
  }

  /** Logs why the partition waits, once it has waited a while: a new cluster's nodes wait for each other briefly. */
  private void waiting(int partition, String format, Object... args) {
    long now = System.currentTimeMillis();
    long[] wait = waits.computeIfAbsent(partition, p -> new long[] {now, 0});
    if (now - wait[0] >= WAITING_LOG_AFTER_MS && now - wait[1] >= WAITING_LOG_EVERY_MS) {
      wait[1] = now;
      LOG.info("partition " + partition + ": " + format, args);
    }
  }

  private static String failures(List<? extends Future<?>> asked) {
    List<String> why = new ArrayList<>();
    asked.forEach(f -> why.add(String.valueOf(f.cause() == null ? null : f.cause().getMessage())));
    return why.toString();
  }

  private void answer(Message<JsonObject> request) {
    JsonObject body = request.body();
    int partition = body.getInteger("partition");
    String node = body.getString("node");
    vertx.executeBlocking(() -> switch (body.getString("op")) {
      case "holds" -> CompletableFuture.completedFuture(new JsonObject().put("holds", holds(partition)));
      case "listen" -> makeListener(partition, node);
      case "vote" -> makeVoter(partition, node, body.getLong("applied"));
      default -> throw new IllegalArgumentException("unknown admission request " + body);
    }, false).compose(Future::fromCompletionStage).onComplete(ar -> {
      if (ar.succeeded()) {
        request.reply(ar.result());
      } else {
        request.fail(1, String.valueOf(ar.cause().getMessage()));
      }
    });
  }

  /**
   * Whether this node holds any entry of the partition: applied in its store, or in its Raft log (a
   * store commits what it applied only every interval, and a restarted node may not have replayed
   * its log yet). A replica being copied holds nothing yet.
   */
  private boolean holds(int partition) throws IOException {
    if (!placement.holds(partition)) {
      return false;
    }
    ReplicaWriter.Applied applied = replicas.applied(partition);
    if (applied.copying() || absent.contains(partition)) {
      return false;
    }
    if (applied.term() > 0) {
      return true;
    }
    RaftLog log = server.getDivision(placement.groupId(partition)).getRaftLog();
    if (log.getStartIndex() > 0) {
      return true; // purged behind a snapshot
    }
    for (long from = Math.max(0, log.getStartIndex()); from < log.getNextIndex(); from += SCAN) {
      for (LogEntryHeader header : log.getEntries(from, Math.min(from + SCAN, log.getNextIndex()))) {
        if (header != null && header.getLogEntryBodyCase() == LogEntryBodyCase.STATEMACHINELOGENTRY) {
          return true;
        }
      }
    }
    return false;
  }

  /** On the partition's leader: makes {@code node}, a voter, a listener, once the other voters are live. */
  private CompletableFuture<JsonObject> makeListener(int partition, String node) throws IOException {
    RaftConfiguration conf = leading(partition).getRaftConf();
    List<RaftPeer> servers = new ArrayList<>(conf.getAllPeers(RaftPeerRole.FOLLOWER));
    List<RaftPeer> listeners = new ArrayList<>(conf.getAllPeers(RaftPeerRole.LISTENER));
    RaftPeerId id = RaftPeerId.valueOf(node);
    if (listeners.stream().anyMatch(p -> p.getId().equals(id))) {
      return CompletableFuture.completedFuture(new JsonObject());
    }
    RaftPeer peer = servers.stream().filter(p -> p.getId().equals(id)).findFirst()
        .orElseThrow(() -> new IOException(node + " is not a replica of partition " + partition));
    List<String> silent = new ArrayList<>();
    for (RaftPeer other : servers) {
      if (!other.getId().equals(id) && !other.getId().equals(server.getId()) && !answered(partition, other.getId())) {
        silent.add(other.getId().toString());
      }
    }
    if (!silent.isEmpty()) {
      throw new IOException("replicas " + silent + " of partition " + partition + " are not answering; making " + node
          + " a listener now would leave the partition without a majority");
    }
    List<RaftPeer> newServers = new ArrayList<>(servers);
    newServers.remove(peer);
    List<RaftPeer> newListeners = new ArrayList<>(listeners);
    newListeners.add(RaftPeer.newBuilder(peer).setStartupRole(RaftPeerRole.LISTENER).build());
    LOG.info("partition {}: {} rejoins empty; a listener until it has caught up", partition, node);
    return reconfigure(partition, servers, listeners, newServers, newListeners);
  }

  /**
   * On the partition's leader: makes {@code node}, a listener that applied up to {@code applied}, a
   * voter again once it has caught up. A voter that joined empty gets one empty entry if behind.
   */
  private CompletableFuture<JsonObject> makeVoter(int partition, String node, long applied) throws IOException {
    RaftServer.Division division = leading(partition);
    RaftConfiguration conf = division.getRaftConf();
    long leaderApplied = division.getInfo().getLastAppliedIndex();
    List<RaftPeer> servers = new ArrayList<>(conf.getAllPeers(RaftPeerRole.FOLLOWER));
    List<RaftPeer> listeners = new ArrayList<>(conf.getAllPeers(RaftPeerRole.LISTENER));
    RaftPeerId id = RaftPeerId.valueOf(node);
    JsonObject voter = new JsonObject().put("promoted", false);
    if (servers.stream().anyMatch(p -> p.getId().equals(id))) {
      return applied >= leaderApplied ? CompletableFuture.completedFuture(voter)
          : writer.proposeEmpty(partition).thenApply(index -> voter);
    }
    RaftPeer listener = listeners.stream().filter(p -> p.getId().equals(id)).findFirst()
        .orElseThrow(() -> new IOException(node + " is not a listener of partition " + partition));
    Leadership.Follower follower = leadership.followers(partition).stream().filter(f -> f.node().equals(node))
        .findFirst().orElse(null);
    long behind = follower == null ? -1 : Math.max(follower.lag(), leaderApplied - applied);
    if (follower == null || behind > PROMOTE_WITHIN || follower.lastAnsweredMs() > answeredWithinMs) {
      String why = follower == null || follower.lastAnsweredMs() > answeredWithinMs ? "not answering"
          : "behind by " + behind + " entries";
      return writer.proposeEmpty(partition).thenApply(index -> {
        throw new IllegalStateException(node + " is " + why + " on partition " + partition);
      });
    }
    List<RaftPeer> newServers = new ArrayList<>(servers);
    newServers.add(placement.group(partition).getPeer(id));
    List<RaftPeer> newListeners = new ArrayList<>(listeners);
    newListeners.remove(listener);
    LOG.info("partition {}: {} has caught up; a voter again", partition, node);
    return reconfigure(partition, servers, listeners, newServers, newListeners)
        .thenApply(done -> new JsonObject().put("promoted", true));
  }

  private RaftServer.Division leading(int partition) throws IOException {
    RaftServer.Division division = server.getDivision(placement.groupId(partition));
    if (!division.getInfo().isLeader() || !division.getInfo().isLeaderReady()) {
      throw new IOException(self + " does not lead partition " + partition);
    }
    return division;
  }

  private boolean answered(int partition, RaftPeerId peer) {
    return leadership.followers(partition).stream()
        .anyMatch(f -> f.node().equals(peer.toString()) && f.lastAnsweredMs() <= answeredWithinMs);
  }

  /** One configuration change, applied only if the configuration is still the one read (another may have passed). */
  private CompletableFuture<JsonObject> reconfigure(int partition, List<RaftPeer> servers, List<RaftPeer> listeners,
      List<RaftPeer> newServers, List<RaftPeer> newListeners) throws IOException {
    SetConfigurationRequest.Arguments arguments = SetConfigurationRequest.Arguments.newBuilder()
        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
        .setServersInCurrentConf(servers).setListenersInCurrentConf(listeners)
        .setServersInNewConf(newServers).setListenersInNewConf(newListeners).build();
    SetConfigurationRequest request = new SetConfigurationRequest(clientId, server.getId(),
        placement.groupId(partition), calls.incrementAndGet(), arguments);
    return server.setConfigurationAsync(request).thenApply(reply -> {
      if (!reply.isSuccess()) {
        throw new IllegalStateException("partition " + partition + ": the configuration change failed: "
            + reply.getException());
      }
      return new JsonObject();
    });
  }
}
