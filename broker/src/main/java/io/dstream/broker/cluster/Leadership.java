package io.dstream.broker.cluster;

import io.dstream.broker.stream.Ownership;
import io.dstream.broker.stream.StreamError;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.ratis.proto.RaftProtos.RaftPeerRole;
import org.apache.ratis.proto.RaftProtos.ServerRpcProto;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.DivisionInfo;
import org.apache.ratis.server.RaftServer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.IntConsumer;
import java.util.function.IntPredicate;
import java.util.stream.IntStream;

/**
 * Who leads each partition, as this node knows it. Raft decides: this node runs a partition's actors
 * only while its Raft division is the partition's leader and ready (it applied every entry of the
 * terms before its own), under that term ({@link Ownership}). The other nodes learn where to send a
 * subject's requests from their own division when they hold the partition, else from the nodes'
 * announcements: every node publishes on the event bus, every {@link #ANNOUNCE_MS}, the partitions
 * it leads with their terms and its HTTP address, and the highest term announced recently wins.
 * Announcements are only hints for routing: a request that reaches a node which does not lead is
 * refused there and retried.
 */
public final class Leadership implements Ownership, ClusterRouting {

  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Leadership.class);

  static final String ANNOUNCEMENTS = "dstream.cluster.nodes";
  static final long ANNOUNCE_MS = 500;
  /** An announcement older than this no longer names a leader. */
  private static final long ANNOUNCEMENT_TTL_MS = 3_000;

  /** A node's last announcement. */
  record Announcement(String node, String http, Map<Integer, Long> leads, long receivedMs) {
  }

  /** One partition as this node sees it. */
  record PartitionView(int partition, List<String> peers, String leader, long term, String role, long applied,
      List<String> voters) {
  }

  /**
   * Another replica of a partition this node leads, as its Raft leader sees it: the applied entries
   * it lacks, how long ago it last answered, and whether it is current (lacks none, and answered
   * within an election timeout).
   */
  public record Follower(String node, long lag, long lastAnsweredMs, boolean current) {
  }

  private final String nodeId;
  private final Placement placement;
  private final long currentWithinMs;
  private final long[] ownedTerms;
  private final String[] localLeaders;
  private final Map<String, Announcement> announcements = new ConcurrentHashMap<>();
  private volatile RaftServer server;
  private volatile String http;
  private IntConsumer onLost = p -> { };

  /** {@code currentWithin}: how recently a follower must have answered to be current (the maximum election timeout). */
  Leadership(String nodeId, Placement placement, Duration currentWithin) {
    this.nodeId = nodeId;
    this.placement = placement;
    this.currentWithinMs = currentWithin.toMillis();
    this.ownedTerms = new long[placement.partitions()];
    this.localLeaders = new String[placement.partitions()];
    java.util.Arrays.fill(ownedTerms, -1);
  }

  void serve(RaftServer raft, IntConsumer lost) {
    this.server = raft;
    this.onLost = lost;
  }

  @Override
  public String nodeId() {
    return nodeId;
  }

  public Placement placement() {
    return placement;
  }

  /** Starts announcing this node (its HTTP address known now) and listening to the others'. */
  void announce(Vertx vertx, String httpAddress) {
    this.http = httpAddress;
    vertx.eventBus().<JsonObject>consumer(ANNOUNCEMENTS, message -> heard(message.body()));
    vertx.setPeriodic(0, ANNOUNCE_MS, id -> vertx.eventBus().publish(ANNOUNCEMENTS, announcement()));
  }

  private JsonObject announcement() {
    JsonObject leads = new JsonObject();
    for (int p = 0; p < ownedTerms.length; p++) {
      if (ownedTerms[p] >= 0) {
        leads.put(Integer.toString(p), ownedTerms[p]);
      }
    }
    return new JsonObject().put("node", nodeId).put("http", http).put("leads", leads);
  }

  private void heard(JsonObject body) {
    Map<Integer, Long> leads = new java.util.HashMap<>();
    body.getJsonObject("leads", new JsonObject()).forEach(e -> leads.put(Integer.parseInt(e.getKey()),
        ((Number) e.getValue()).longValue()));
    announcements.put(body.getString("node"), new Announcement(body.getString("node"), body.getString("http"), leads,
        System.currentTimeMillis()));
  }

  /** Reads every local division's role; a partition whose ready leadership ended fails its waiting writes. */
  synchronized void refresh() {
    RaftServer raft = server;
    if (raft == null) {
      return;
    }
    for (int p = 0; p < ownedTerms.length; p++) {
      long owned = -1;
      String leader = null;
      if (placement.holds(p)) {
        DivisionInfo info = info(raft, p);
        if (info != null) {
          if (info.isLeader() && info.isLeaderReady()) {
            owned = info.getCurrentTerm();
          }
          RaftPeerId leaderId = info.getLeaderId();
          leader = leaderId == null ? null : leaderId.toString();
        }
      }
      long before = ownedTerms[p];
      ownedTerms[p] = owned;
      localLeaders[p] = leader;
      if (before >= 0 && before != owned) {
        LOG.info("cluster: node {} stopped leading partition {} (term {})", nodeId, p, before);
        onLost.accept(p);
      }
      if (owned >= 0 && before != owned) {
        LOG.info("cluster: node {} leads partition {} (term {})", nodeId, p, owned);
      }
    }
  }

  private DivisionInfo info(RaftServer raft, int partition) {
    RaftServer.Division division = division(raft, partition);
    return division == null ? null : division.getInfo();
  }

  private RaftServer.Division division(RaftServer raft, int partition) {
    try {
      return raft.getDivision(placement.groupId(partition));
    } catch (IOException e) {
      return null;
    }
  }

  /**
   * Ratis's role, except for a replica its own configuration makes a listener: one created outside
   * its group while it rejoins (Admission), which Ratis may call a follower after replaying an older
   * configuration.
   */
  private static String role(RaftServer raft, RaftServer.Division division) {
    return division.getRaftConf().getPeer(raft.getId(), RaftPeerRole.LISTENER) != null
        ? RaftPeerRole.LISTENER.name() : division.getInfo().getCurrentRole().name();
  }

  @Override
  public long term(String subject) {
    return ownedTerms[placement.partitionOf(subject)];
  }

  @Override
  public StreamError notOwned(String subject) {
    int p = placement.partitionOf(subject);
    String leader = leaderOf(p);
    return StreamError.of(StreamError.Kind.UNAVAILABLE, "not_leader", leader == null
        ? "cluster: partition " + p + " of '" + subject + "' has no leader now (election or quorum lost); retry"
        : "cluster: partition " + p + " of '" + subject + "' is led by node " + leader + ", not " + nodeId);
  }

  /** The partition's leader as this node knows it, or null. */
  public String leaderOf(int partition) {
    if (ownedTerms[partition] >= 0) {
      return nodeId;
    }
    if (localLeaders[partition] != null) {
      return localLeaders[partition];
    }
    long now = System.currentTimeMillis();
    Announcement best = null;
    for (Announcement a : announcements.values()) {
      Long term = a.leads().get(partition);
      if (term != null && now - a.receivedMs() < ANNOUNCEMENT_TTL_MS
          && (best == null || term > best.leads().get(partition))) {
        best = a;
      }
    }
    return best == null ? null : best.node();
  }

  @Override
  public String remoteLeaderHttp(String subject) {
    int p = placement.partitionOf(subject);
    if (ownedTerms[p] >= 0) {
      return null;
    }
    String leader = leaderOf(p);
    Announcement announced = leader == null ? null : announcements.get(leader);
    if (announced == null || announced.http() == null || nodeId.equals(leader)) {
      throw notOwned(subject);
    }
    return announced.http();
  }

  /** The nodes heard from recently, this one included. */
  public List<String> members() {
    long now = System.currentTimeMillis();
    List<String> members = new ArrayList<>();
    members.add(nodeId);
    announcements.values().stream().filter(a -> now - a.receivedMs() < ANNOUNCEMENT_TTL_MS && !a.node().equals(nodeId))
        .map(Announcement::node).forEach(members::add);
    members.sort(null);
    return members;
  }

  /** Every partition as this node sees it, for operators. */
  public List<PartitionView> partitions() {
    List<PartitionView> views = new ArrayList<>();
    RaftServer raft = server;
    for (int p = 0; p < ownedTerms.length; p++) {
      RaftServer.Division division = raft != null && placement.holds(p) ? division(raft, p) : null;
      DivisionInfo info = division == null ? null : division.getInfo();
      List<String> voters = division == null ? List.of() : division.getRaftConf().getCurrentPeers(RaftPeerRole.FOLLOWER)
          .stream().map(peer -> peer.getId().toString()).sorted().toList();
      views.add(new PartitionView(p, placement.peersOf(p), leaderOf(p), info == null ? 0 : info.getCurrentTerm(),
          division == null ? "NONE" : role(raft, division), info == null ? 0 : info.getLastAppliedIndex(), voters));
    }
    return views;
  }

  /** The other replicas of {@code partition} while this node leads it; none otherwise. */
  public List<Follower> followers(int partition) {
    RaftServer raft = server;
    DivisionInfo info = raft != null && placement.holds(partition) ? info(raft, partition) : null;
    long[] matched = info == null || !info.isLeader() ? null : info.getFollowerMatchIndices();
    if (matched == null) {
      return List.of();
    }
    // Ratis lists both in the order of its log appenders, one per follower.
    List<ServerRpcProto> answered = info.getRoleInfoProto().getLeaderInfo().getFollowerInfoList();
    long applied = info.getLastAppliedIndex();
    List<Follower> followers = new ArrayList<>();
    for (int i = 0; i < Math.min(matched.length, answered.size()); i++) {
      long lag = Math.max(0, applied - matched[i]);
      long lastAnsweredMs = answered.get(i).getLastRpcElapsedTimeMs();
      followers.add(new Follower(answered.get(i).getId().getId().toStringUtf8(), lag, lastAnsweredMs,
          lag == 0 && lastAnsweredMs <= currentWithinMs));
    }
    return followers;
  }

  /**
   * Whether {@code node} answered this node, the partition's leader, within the maximum election
   * timeout (whatever it lacks); false when this node does not lead the partition.
   */
  boolean answering(int partition, String node) {
    return followers(partition).stream().anyMatch(f -> f.node().equals(node) && f.lastAnsweredMs() <= currentWithinMs);
  }

  /**
   * Exports, read at each scrape, the partitions this node holds a replica of as monitoring counts
   * them: those it leads; those without a leader it knows of (an election, or no majority: their
   * writes fail); and those it leads with another replica missing or not current (behind, or silent
   * for an election timeout), where one more loss would leave them without a majority (Kafka's
   * under-replicated partitions).
   */
  public void measure(MeterRegistry registry) {
    Gauge.builder("dstream_cluster_partitions_led", this, l -> l.held(p -> l.ownedTerms[p] >= 0))
        .description("Partitions this node leads (cluster mode)").register(registry);
    Gauge.builder("dstream_cluster_partitions_without_leader", this, l -> l.held(p -> l.leaderOf(p) == null))
        .description("Partitions this node holds whose leader it does not know: their writes fail").register(registry);
    Gauge.builder("dstream_cluster_partitions_under_replicated", this,
            l -> l.held(p -> l.ownedTerms[p] >= 0 && l.underReplicated(p)))
        .description("Partitions this node leads with a replica missing or not current").register(registry);
  }

  /** How many of the partitions this node holds a replica of pass {@code check}. */
  private int held(IntPredicate check) {
    return (int) IntStream.range(0, ownedTerms.length).filter(p -> placement.holds(p) && check.test(p)).count();
  }

  private boolean underReplicated(int partition) {
    List<Follower> followers = followers(partition);
    return followers.size() < placement.peersOf(partition).size() - 1
        || followers.stream().anyMatch(follower -> !follower.current());
  }

  /** The admin API's view of the cluster. */
  public JsonObject status() {
    JsonArray list = new JsonArray();
    for (PartitionView view : partitions()) {
      list.add(new JsonObject().put("partition", view.partition()).put("peers", new JsonArray(view.peers()))
          .put("leader", view.leader()).put("term", view.term()).put("role", view.role()).put("applied", view.applied())
          .put("voters", new JsonArray(view.voters())));
    }
    return new JsonObject().put("node", nodeId).put("members", new JsonArray(members()))
        .put("partitions", placement.partitions()).put("partition_list", list);
  }

  /** The admin API's view of one subject's placement. */
  public JsonObject subject(String subject) {
    int p = placement.partitionOf(subject);
    return new JsonObject().put("subject", subject).put("partition", p).put("leader", leaderOf(p))
        .put("peers", new JsonArray(placement.peersOf(p)));
  }
}
