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
import java.nio.file.Files;
import java.nio.file.Path;
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
 *   and asks the leader for one empty entry if behind: Ratis 3.2.2's leader never moves a replica's
 *   next index below the index that replica matched before unless a refused append carried
 *   entries;</li>
 *   <li>if one does, it asks the leader to <em>remove</em> it from the group. That configuration
 *   change commits on the two other replicas, so from then on both hold everything the node
 *   acknowledged before its wipe, and no lagging replica can be elected with its vote. Then it
 *   creates its group (as a listener, so that it stands for no election while outside) and asks the
 *   leader, every tick, to add it back: Ratis bootstraps it (a copy of the partition, then the log)
 *   and makes it a voter once it is within its catch-up gap. A marker file under
 *   {@code raft-rejoining} keeps this state across a restart.</li>
 * </ul>
 * Removing and adding, not turning the voter into a Ratis listener: a leader elected while a
 * follower-to-listener change is in its log fails to start (Ratis 3.2.2 adds that peer's log
 * appender twice), and the partition would have no working leader for good. While a replica is out,
 * its partition has two voters and needs both: losing either stops the partition's writes until it
 * is back. Safety over availability, as Kafka's KRaft with its voters' directory ids. A partition of
 * two replicas is entered as a voter: the removal would need the absent replica, and there is no
 * third one that could lag.
 */
final class Admission {

  private static final Logger LOG = LoggerFactory.getLogger(Admission.class);
  private static final long TICK_MS = 1_000;
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
  private final Path rejoiningDir;
  private final DeliveryOptions requests;
  /** Held partitions whose group this node has not created yet. */
  private final Set<Integer> absent = ConcurrentHashMap.newKeySet();
  /** Partitions this node joined empty as a voter, until their leader has sent it an entry. */
  private final Set<Integer> joined = ConcurrentHashMap.newKeySet();
  /** Partitions this node was removed from, until their leader has added it back (a marker file each). */
  private final Set<Integer> rejoining = ConcurrentHashMap.newKeySet();
  /** Partitions with a request of this node under way: one at a time each. */
  private final Set<Integer> busy = ConcurrentHashMap.newKeySet();
  private final ClientId clientId = ClientId.randomId();
  private final AtomicLong calls = new AtomicLong();
  /** Since when each partition has waited, and when that was last logged. */
  private final Map<Integer, long[]> waits = new ConcurrentHashMap<>();
  private long timer = -1;

  /** {@code timeout}: how long a request to another node may take. */
  Admission(Vertx vertx, RaftServer server, Placement placement, ReplicaWriter replicas, ReplicatedWriter writer,
      Leadership leadership, Path rejoiningDir, Duration timeout) {
    this.vertx = vertx;
    this.server = server;
    this.self = server.getId().toString();
    this.placement = placement;
    this.replicas = replicas;
    this.writer = writer;
    this.leadership = leadership;
    this.rejoiningDir = rejoiningDir;
    this.requests = new DeliveryOptions().setSendTimeout(timeout.toMillis());
  }

  private static String address(String node) {
    return "dstream.node." + node + ".admission";
  }

  /** Answers the other nodes, and enters {@code missing} (held partitions without a group here) as above. Blocking. */
  void start(Set<Integer> missing) throws IOException {
    Files.createDirectories(rejoiningDir);
    for (int p = 0; p < placement.partitions(); p++) {
      if (Files.exists(marker(p))) {
        rejoining.add(p);
      }
    }
    absent.addAll(missing);
    vertx.eventBus().<JsonObject>consumer(address(self), this::answer);
    timer = vertx.setPeriodic(0, TICK_MS, id -> tick());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  private Path marker(int partition) {
    return rejoiningDir.resolve(Integer.toString(partition));
  }

  private void tick() {
    vertx.executeBlocking(this::applied, false).onSuccess(applied -> {
      for (int p : List.copyOf(absent)) {
        if (busy.add(p)) {
          enter(p).onComplete(ar -> busy.remove(p));
        }
      }
      for (int p : List.copyOf(rejoining)) {
        if (!absent.contains(p) && busy.add(p)) {
          rejoin(p).onComplete(ar -> busy.remove(p));
        }
      }
      applied.forEach((p, index) -> {
        if (busy.add(p)) {
          nudge(p, index).onComplete(ar -> busy.remove(p));
        }
      });
    });
  }

  /** The index each partition this node joined empty as a voter applied. Blocking: a division may be starting. */
  private Map<Integer, Long> applied() {
    Map<Integer, Long> applied = new HashMap<>();
    for (int p : joined) {
      try {
        applied.put(p, server.getDivision(placement.groupId(p)).getInfo().getLastAppliedIndex());
      } catch (IOException e) {
        LOG.debug("partition {}: no Raft division here: {}", p, e.toString());
      }
    }
    return applied;
  }

  private Future<Void> enter(int partition) {
    List<String> others = others(partition);
    List<Future<Boolean>> answers = new ArrayList<>();
    for (String node : others) {
      answers.add(ask(node, request("holds", partition)).map(reply -> reply.getBoolean("holds")));
    }
    return Future.join(answers).transform(ignored -> {
      int empty = 0;
      List<String> holders = new ArrayList<>();
      for (int i = 0; i < answers.size(); i++) {
        Future<Boolean> answer = answers.get(i);
        if (answer.succeeded() && answer.result()) {
          holders.add(others.get(i));
        } else if (answer.succeeded()) {
          empty++;
        }
      }
      if (!holders.isEmpty() && placement.peersOf(partition).size() >= 3) {
        return leave(partition, holders);
      }
      if (!holders.isEmpty()) {
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

  /** Asks the partition's leader, whichever node it is, to remove this node; then creates the group outside it. */
  private Future<Void> leave(int partition, List<String> holders) {
    List<Future<JsonObject>> asked = askAll(partition, request("leave", partition));
    return Future.any(asked).transform(ar -> {
      if (ar.failed()) {
        waiting(partition, "{} hold it, and no leader has removed this empty replica yet: {}", holders,
            failures(asked));
        return Future.succeededFuture();
      }
      LOG.info("partition {}: {} hold it; removed from its group, a voter again once its leader has added it back "
          + "and it has caught up", partition, holders);
      return vertx.executeBlocking(() -> {
        Files.write(marker(partition), new byte[0]);
        rejoining.add(partition);
        return null;
      }, false).compose(v -> create(partition, true));
    });
  }

  private Future<Void> rejoin(int partition) {
    List<Future<JsonObject>> asked = askAll(partition, request("join", partition));
    return Future.any(asked).transform(ar -> {
      if (ar.failed()) {
        waiting(partition, "its leader has not added it back yet: {}", failures(asked));
        return Future.succeededFuture();
      }
      return vertx.executeBlocking(() -> {
        Files.deleteIfExists(marker(partition));
        rejoining.remove(partition);
        waits.remove(partition);
        LOG.info("partition {}: added back and caught up; a voting replica again", partition);
        return null;
      }, false);
    });
  }

  private Future<Void> nudge(int partition, long applied) {
    List<Future<JsonObject>> asked = askAll(partition, request("nudge", partition).put("applied", applied));
    return Future.any(asked).transform(ar -> {
      if (ar.succeeded()) {
        joined.remove(partition);
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Creates the partition's group: as one of its voters, or, for a node removed from it, with itself
   * a listener (it stands for no election while outside; the leader's configuration, once it adds
   * the node back, makes it a follower).
   */
  private Future<Void> create(int partition, boolean outside) {
    return vertx.executeBlocking(() -> {
      RaftGroup group = placement.group(partition);
      if (outside) {
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
      if (!outside) {
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

  private Future<JsonObject> ask(String node, JsonObject body) {
    return vertx.eventBus().<JsonObject>request(address(node), body, requests).map(Message::body);
  }

  /** The same request to every other replica: only the leader takes it. */
  private List<Future<JsonObject>> askAll(int partition, JsonObject body) {
    List<Future<JsonObject>> asked = new ArrayList<>();
    for (String node : others(partition)) {
      asked.add(ask(node, body));
    }
    return asked;
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
      case "leave" -> remove(partition, node);
      case "join" -> addBack(partition, node);
      case "nudge" -> nudged(partition, body.getLong("applied"));
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

  /**
   * On the partition's leader: removes {@code node} from the group, once the other voters are live;
   * answers only once the removal is committed (a leader works with the newest configuration in its
   * log, committed or not, and until the others hold the removal one of them could still count the
   * node as a voter).
   */
  private CompletableFuture<JsonObject> remove(int partition, String node) throws IOException {
    Members members = members(partition);
    List<RaftPeer> servers = members.servers();
    RaftPeerId id = RaftPeerId.valueOf(node);
    RaftPeer peer = servers.stream().filter(p -> p.getId().equals(id)).findFirst().orElse(null);
    if (peer == null) {
      if (members.settling()) {
        throw new IOException("the change removing " + node + " from partition " + partition + " is not committed yet");
      }
      return CompletableFuture.completedFuture(new JsonObject());
    }
    List<String> silent = new ArrayList<>();
    for (RaftPeer other : servers) {
      if (!other.getId().equals(id) && !other.getId().equals(server.getId())
          && !leadership.answering(partition, other.getId().toString())) {
        silent.add(other.getId().toString());
      }
    }
    if (!silent.isEmpty()) {
      throw new IOException("replicas " + silent + " of partition " + partition + " are not answering; removing " + node
          + " now would leave the partition without a majority");
    }
    List<RaftPeer> newServers = new ArrayList<>(servers);
    newServers.remove(peer);
    LOG.info("partition {}: {} rejoins empty; removed until it is added back", partition, node);
    return reconfigure(partition, members, newServers);
  }

  /** On the partition's leader: adds {@code node} back as a voter; Ratis first brings it up to date (staging). */
  private CompletableFuture<JsonObject> addBack(int partition, String node) throws IOException {
    Members members = members(partition);
    List<RaftPeer> servers = members.servers();
    RaftPeerId id = RaftPeerId.valueOf(node);
    if (servers.stream().anyMatch(p -> p.getId().equals(id))) {
      if (members.settling()) {
        throw new IOException("the change adding " + node + " back to partition " + partition + " is not committed yet");
      }
      return CompletableFuture.completedFuture(new JsonObject());
    }
    List<RaftPeer> newServers = new ArrayList<>(servers);
    newServers.add(placement.group(partition).getPeer(id));
    LOG.info("partition {}: adding {} back, once it has caught up", partition, node);
    return reconfigure(partition, members, newServers);
  }

  /** On the partition's leader: one empty entry for a voter that joined empty and is behind (see above). */
  private CompletableFuture<JsonObject> nudged(int partition, long applied) throws IOException {
    RaftServer.Division division = leading(partition);
    return applied >= division.getInfo().getLastAppliedIndex() ? CompletableFuture.completedFuture(new JsonObject())
        : writer.proposeEmpty(partition).thenApply(index -> new JsonObject());
  }

  /**
   * A partition's Raft configuration on its leader: the voters and listeners of its newest one, and
   * whether that one is still settling (a joint configuration, or not yet committed).
   */
  private record Members(List<RaftPeer> servers, List<RaftPeer> listeners, boolean settling) {
  }

  private Members members(int partition) throws IOException {
    RaftServer.Division division = leading(partition);
    RaftConfiguration conf = division.getRaftConf();
    return new Members(new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.FOLLOWER)),
        new ArrayList<>(conf.getCurrentPeers(RaftPeerRole.LISTENER)),
        !conf.getPreviousPeers(RaftPeerRole.FOLLOWER).isEmpty()
            || conf.getLogEntryIndex() > division.getRaftLog().getLastCommittedIndex());
  }

  private RaftServer.Division leading(int partition) throws IOException {
    RaftServer.Division division = server.getDivision(placement.groupId(partition));
    if (!division.getInfo().isLeader() || !division.getInfo().isLeaderReady()) {
      throw new IOException(self + " does not lead partition " + partition);
    }
    return division;
  }

  /**
   * Replaces the partition's voters with {@code newServers}, its listeners unchanged, only if the
   * configuration is still the one read (another change may have passed meanwhile).
   */
  private CompletableFuture<JsonObject> reconfigure(int partition, Members members, List<RaftPeer> newServers)
      throws IOException {
    SetConfigurationRequest.Arguments arguments = SetConfigurationRequest.Arguments.newBuilder()
        .setMode(SetConfigurationRequest.Mode.COMPARE_AND_SET)
        .setServersInCurrentConf(members.servers()).setListenersInCurrentConf(members.listeners())
        .setServersInNewConf(newServers).setListenersInNewConf(members.listeners()).build();
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
