package io.dstream.broker.cluster;

import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.config.MapConfig;
import com.hazelcast.config.MultiMapConfig;
import com.hazelcast.config.NetworkConfig;
import com.hazelcast.config.TcpIpConfig;
import io.dstream.broker.archive.TermCheck;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.config.ClusterSettings;
import io.dstream.broker.store.BatchWriter;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.SyncMode;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.eventbus.EventBusOptions;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import org.apache.ratis.conf.RaftProperties;
import org.apache.ratis.grpc.GrpcConfigKeys;
import org.apache.ratis.protocol.ClientId;
import org.apache.ratis.protocol.GroupManagementRequest;
import org.apache.ratis.protocol.Message;
import org.apache.ratis.protocol.RaftClientReply;
import org.apache.ratis.protocol.RaftClientRequest;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeerId;
import org.apache.ratis.server.RaftServer;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.apache.ratis.server.storage.RaftStorage;
import org.apache.ratis.util.SizeInBytes;
import org.apache.ratis.util.TimeDuration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * This node's part of a cluster (docs/cluster.md): the Raft server hosting one group per partition
 * it holds (Apache Ratis, one gRPC port), the {@link ReplicaWriter} applying their entries into the
 * node's H2 store, the {@link ReplicatedWriter} the actors write through, and the
 * {@link Leadership} that says which partitions this node leads. Membership and node-to-node
 * requests are the clustered Vert.x event bus over Hazelcast ({@link #clusteredVertx}); Raft alone
 * decides who owns a subject. Nothing here is created in single-node mode.
 */
public final class ClusterNode implements PartitionMachine.Node {

  private static final Logger LOG = LoggerFactory.getLogger(ClusterNode.class);
  /** How often the partitions' roles are read from Ratis, besides its leader-change events. */
  private static final long REFRESH_MS = 100;
  /**
   * A leader's handover to its preferred replica refuses writes for at most an election timeout; one
   * refusing them for this many maximum election timeouts is stuck, and steps down (ReplicatedWriter).
   */
  private static final int STUCK_STEP_DOWN_TIMEOUTS = 4;
  /** Entries of the largest size the store may hold applied and not yet committed, before the commit interval passed. */
  private static final int STORE_COMMIT_ENTRIES = 4;

  private final ClusterSettings settings;
  /** When a replica counts an entry as written: forced to its disk ({@code always}) or handed to its OS ({@code os}). */
  private final SyncMode sync;
  private final MessageStore store;
  private final Placement placement;
  private final Leadership leadership;
  private final ReplicaWriter replicas;
  private final ReplicatedWriter writer;
  private final String origin;
  private CopySource copySource;
  private CopyTarget copyTarget;
  private Admission admission;
  private RaftServer server;
  private long refreshTimer = -1;
  private Vertx vertx;

  private ClusterNode(BrokerConfig config, MessageStore store) {
    this.settings = config.cluster();
    this.sync = config.syncMode();
    this.store = store;
    this.placement = new Placement(settings);
    this.leadership = new Leadership(settings.nodeId(), placement, settings.electionTimeoutMax());
    this.replicas = new ReplicaWriter(store, settings.storeCommitInterval(),
        STORE_COMMIT_ENTRIES * (long) settings.maxEntryBytes());
    this.origin = settings.nodeId() + "/" + java.util.UUID.randomUUID();
    this.writer = new ReplicatedWriter(origin, placement, leadership, config.groupCommit().maxMessages(),
        Math.min(config.groupCommit().maxBytes(), settings.maxEntryBytes()), config.writeQueueBatches(),
        settings.electionTimeoutMax().multipliedBy(STUCK_STEP_DOWN_TIMEOUTS));
  }

  /**
   * A Vert.x whose event bus spans the cluster: Hazelcast configured in code, joining by TCP/IP on
   * the peers' addresses only (no multicast, no auto detection, no phone-home).
   */
  public static Future<Vertx> clusteredVertx(ClusterSettings settings) {
    ClusterSettings.Peer self = settings.self();
    Config hazelcast = new Config();
    hazelcast.setClusterName("dstream");
    hazelcast.setProperty("hazelcast.phone.home.enabled", "false");
    hazelcast.setProperty("hazelcast.logging.type", "slf4j");
    hazelcast.setProperty("hazelcast.shutdownhook.enabled", "false");
    hazelcast.setProperty("hazelcast.wait.seconds.before.join", "0");
    // A member that stops answering (a frozen process) is dropped after this, not after the default
    // minute: until then, event-bus lookups that need its Hazelcast partitions wait.
    hazelcast.setProperty("hazelcast.max.no.heartbeat.seconds",
        Long.toString(Math.max(1, settings.memberTimeout().toSeconds())));
    hazelcast.setProperty("hazelcast.heartbeat.interval.seconds", "1");
    // A dropped member that comes back (SIGCONT, a healed network) is outside the membership, and so
    // outside the event bus, until the split-brain check merges it: by default 300 s after start,
    // then every 120 s. Checking as often as a member may be dropped bounds that to about as long.
    String mergeCheck = Long.toString(Math.max(1, settings.memberTimeout().toSeconds()));
    hazelcast.setProperty("hazelcast.merge.first.run.delay.seconds", mergeCheck);
    hazelcast.setProperty("hazelcast.merge.next.run.delay.seconds", mergeCheck);
    NetworkConfig network = hazelcast.getNetworkConfig();
    network.setPort(self.hazelcastPort()).setPortAutoIncrement(false);
    // Hazelcast binds to an interface given as an address; a peer list may name hosts (docker compose).
    network.getInterfaces().setEnabled(true).addInterface(address(self.host()));
    JoinConfig join = network.getJoin();
    join.getMulticastConfig().setEnabled(false);
    join.getAutoDetectionConfig().setEnabled(false);
    TcpIpConfig tcp = join.getTcpIpConfig().setEnabled(true).setConnectionTimeoutSeconds(1);
    for (ClusterSettings.Peer peer : settings.peers()) {
      tcp.addMember(peer.host() + ":" + peer.hazelcastPort());
    }
    // What vertx-hazelcast's default XML declares for its own maps.
    hazelcast.addMultiMapConfig(new MultiMapConfig("__vertx.subs").setBackupCount(1)
        .setValueCollectionType(MultiMapConfig.ValueCollectionType.SET));
    hazelcast.addMapConfig(new MapConfig("__vertx.haInfo").setBackupCount(1));
    hazelcast.addMapConfig(new MapConfig("__vertx.nodeInfo").setBackupCount(1));
    return Vertx.builder()
        .with(new VertxOptions().setEventBusOptions(new EventBusOptions().setHost(self.host()).setPort(0)))
        .withClusterManager(new HazelcastClusterManager(hazelcast))
        .buildClustered();
  }

  private static String address(String host) {
    try {
      return java.net.InetAddress.getByName(host).getHostAddress();
    } catch (java.net.UnknownHostException e) {
      throw new IllegalArgumentException("cluster: this node's host '" + host + "' does not resolve", e);
    }
  }

  /** Starts the Raft server (blocking: call off the event loop); its groups recover from the data dir. */
  public static ClusterNode start(Vertx vertx, BrokerConfig config, MessageStore store) throws IOException {
    ClusterNode node = new ClusterNode(config, store);
    try {
      node.startRaft(vertx, config.dataDir().resolve("raft"), config.dataDir().resolve("raft-copies"));
    } catch (IOException | RuntimeException e) {
      node.close();
      throw e;
    }
    return node;
  }

  private void startRaft(Vertx vertx, Path dir, Path copies) throws IOException {
    this.vertx = vertx;
    boolean earlierData;
    try (Stream<Path> groups = Files.isDirectory(dir) ? Files.list(dir) : Stream.empty()) {
      earlierData = groups.findAny().isPresent();
    }
    placement.pin(dir.resolveSibling("raft-placement"), earlierData);
    Files.createDirectories(dir);
    copySource = new CopySource(store, replicas, placement, copies, settings.copy());
    copySource.listen(vertx, settings.nodeId());
    copyTarget = new CopyTarget(settings.nodeId(), store, replicas, placement, leadership::leaderOf,
        CopyTarget.overEventBus(vertx, settings.copy().pageTimeout()), settings.copy().pageBytes());
    forgetInterruptedCopies(dir);
    RaftProperties properties = raftProperties(settings, sync, dir);
    // gRPC keeps its own executor for Ratis's handlers. Running them on gRPC's Netty threads instead
    // (directExecutor) saved a thread hop per request, but some handlers block (a vote waits for its
    // group to start, then forces the vote to disk), and every stream of that thread's connections
    // stalls meanwhile: in half of the three-node starts on two cores, a slow node's
    // heartbeats timed out by the hundred, partitions changed leader, and once a follower took no
    // append for 90 s under load (benchmarks.md, run 17).
    server = RaftServer.newBuilder().setServerId(RaftPeerId.valueOf(settings.nodeId())).setProperties(properties)
        .setStateMachineRegistry(groupId -> new PartitionMachine(placement.partitionOf(groupId), this))
        .setOption(RaftStorage.StartupOption.RECOVER).build();
    server.start();
    Set<RaftGroupId> present = new HashSet<>();
    server.getGroupIds().forEach(present::add);
    Set<Integer> missing = new HashSet<>();
    for (int p = 0; p < placement.partitions(); p++) {
      if (placement.holds(p) && present.contains(placement.groupId(p)) && withoutConfiguration(placement.groupId(p))) {
        // Its group was created here but its first entry never arrived: recovered without a
        // configuration, the division would leave the group at its first election timeout.
        LOG.warn("partition {}: its Raft group holds no configuration (created here, never reached by its leader); "
            + "entering it again", p);
        RaftClientReply removed = server.groupManagement(GroupManagementRequest.newRemove(ClientId.randomId(),
            server.getId(), p, placement.groupId(p), true, false));
        if (!removed.isSuccess()) {
          throw new IOException("cannot remove the empty Raft group of partition " + p + ": " + removed.getException());
        }
        present.remove(placement.groupId(p));
      }
      if (placement.holds(p) && !present.contains(placement.groupId(p))) {
        missing.add(p);
      }
    }
    leadership.serve(server, writer::lost);
    writer.serve(server);
    admission = new Admission(vertx, server, placement, replicas, writer, leadership,
        dir.resolveSibling("raft-rejoining"), settings.forwardTimeout());
    admission.start(missing);
    refreshTimer = vertx.setPeriodic(REFRESH_MS, id -> leadership.refresh());
    long held = java.util.stream.IntStream.range(0, placement.partitions()).filter(placement::holds).count();
    LOG.info("cluster: Raft server {} on {} holds {} of {} partitions", settings.nodeId(), settings.self().raftAddress(),
        held, placement.partitions());
  }

  /** The Raft settings of this node's server, from the cluster settings and {@code DSTREAM_SYNC}. */
  static RaftProperties raftProperties(ClusterSettings settings, SyncMode sync, Path dir) {
    RaftProperties properties = new RaftProperties();
    RaftServerConfigKeys.setStorageDir(properties, List.of(dir.toFile()));
    GrpcConfigKeys.Server.setPort(properties, settings.self().raftPort());
    GrpcConfigKeys.Server.setHost(properties, settings.self().host());
    RaftServerConfigKeys.Rpc.setTimeoutMin(properties, millis(settings.electionTimeoutMin().toMillis()));
    RaftServerConfigKeys.Rpc.setTimeoutMax(properties, millis(settings.electionTimeoutMax().toMillis()));
    RaftServerConfigKeys.LeaderElection.setLeaderStepDownWaitTime(properties, millis(settings.stepDownWait().toMillis()));
    RaftServerConfigKeys.LeaderElection.setPreVote(properties, true);
    // Reads are used only to confirm a leadership (termCheck): they must ask a majority, not the leader's own view.
    RaftServerConfigKeys.Read.setOption(properties, RaftServerConfigKeys.Read.Option.LINEARIZABLE);
    // The default makes a leader wait 10 ms between two appends to a follower: 10 ms on every acknowledgement.
    RaftServerConfigKeys.Log.Appender.setWaitTimeMin(properties, millis(0));
    // A snapshot holds no data (PartitionMachine): a replica the log cannot catch up copies the partition itself.
    RaftServerConfigKeys.Log.Appender.setInstallSnapshotEnabled(properties, false);
    RaftServerConfigKeys.Snapshot.setAutoTriggerEnabled(properties, true);
    RaftServerConfigKeys.Snapshot.setAutoTriggerThreshold(properties, settings.snapshotEntries());
    RaftServerConfigKeys.Snapshot.setRetentionFileNum(properties, 2);
    RaftServerConfigKeys.Log.setPurgeUptoSnapshotIndex(properties, true);
    // Up to a snapshot interval of entries stays behind each snapshot, so a live follower that fell
    // behind under load catches up from the log instead of being sent the whole partition again.
    RaftServerConfigKeys.Log.setPurgePreservationLogNum(properties, settings.snapshotEntries());
    RaftServerConfigKeys.Log.setPurgeGap(properties, (int) Math.min(1024, settings.snapshotEntries()));
    RaftServerConfigKeys.Log.setSegmentSizeMax(properties, SizeInBytes.valueOf(settings.logSegmentBytes()));
    // DSTREAM_SYNC=os: a replica counts an entry as written once its OS has it, and Ratis's flush
    // thread forces it right after (Ratis's "unsafe flush"); so an acknowledgement survives any process
    // crash, and an OS crash or power loss of a majority at once may lose the last entries, as with
    // JetStream's R3 streams. always: forced before it counts.
    RaftServerConfigKeys.Log.setUnsafeFlushEnabled(properties, sync == SyncMode.OS);
    // The log's buffers take the largest entry (DSTREAM_CLUSTER_MAX_ENTRY_BYTES) and their framing.
    long entry = settings.maxEntryBytes();
    RaftServerConfigKeys.Log.Appender.setBufferByteLimit(properties, SizeInBytes.valueOf(entry));
    RaftServerConfigKeys.Log.setWriteBufferSize(properties, SizeInBytes.valueOf(entry + 1024));
    GrpcConfigKeys.setMessageSizeMax(properties, SizeInBytes.valueOf(entry + (2L << 20)));
    return properties;
  }

  private boolean withoutConfiguration(RaftGroupId group) throws IOException {
    return server.getDivision(group).getRaftConf().getAllPeers().isEmpty();
  }

  /**
   * A partition whose copy from another replica a crash interrupted holds part of a copy and an
   * older Raft log that no longer matches it: its Raft directory goes, so the partition's group is
   * created again below and this replica rejoins empty, as a wiped one (PartitionMachine#recover
   * clears the store's part).
   */
  private void forgetInterruptedCopies(Path dir) throws IOException {
    for (int p = 0; p < placement.partitions(); p++) {
      Path group = dir.resolve(placement.groupId(p).getUuid().toString());
      if (placement.holds(p) && replicas.applied(p).copying() && Files.exists(group)) {
        LOG.warn("partition {}: a copy from another replica was interrupted; removing its Raft directory {}", p, group);
        try (Stream<Path> files = Files.walk(group)) {
          for (Path file : (Iterable<Path>) files.sorted(Comparator.reverseOrder())::iterator) {
            Files.delete(file);
          }
        }
      }
    }
  }

  private static TimeDuration millis(long ms) {
    return TimeDuration.valueOf(ms, TimeUnit.MILLISECONDS);
  }

  /** The actors' writer: the partitions' Raft logs. */
  public BatchWriter writer() {
    return writer;
  }

  public Leadership leadership() {
    return leadership;
  }

  /**
   * The archive's {@link TermCheck}: a linearizable read of the subject's partition, which Raft
   * answers only after a majority confirmed this node still leads, checked to be in {@code term}.
   * Blocks up to the forward timeout; the archive calls it on its own pool.
   */
  public TermCheck termCheck() {
    return (subject, term) -> {
      if (leadership.term(subject) != term) {
        return false;
      }
      RaftClientRequest read = RaftClientRequest.newBuilder().setClientId(ClientId.randomId())
          .setServerId(server.getId()).setGroupId(placement.groupId(placement.partitionOf(subject)))
          .setCallId(0).setMessage(Message.EMPTY).setType(RaftClientRequest.readRequestType()).build();
      RaftClientReply reply = server.submitClientRequestAsync(read)
          .get(settings.forwardTimeout().toMillis(), TimeUnit.MILLISECONDS);
      return reply.isSuccess() && leadership.term(subject) == term;
    };
  }

  /** Once the HTTP listener is up: this node announces itself, and is ready. */
  public void ready(String httpAddress) {
    leadership.announce(vertx, httpAddress);
    LOG.info("cluster: node {} ready", settings.nodeId());
  }

  @Override
  public String origin() {
    return origin;
  }

  @Override
  public MessageStore store() {
    return store;
  }

  @Override
  public ReplicaWriter replicas() {
    return replicas;
  }

  @Override
  public Placement placement() {
    return placement;
  }

  @Override
  public void applied(int partition, long entryId, List<ReplicaWriter.Outcome> outcomes) {
    writer.applied(partition, entryId, outcomes);
  }

  @Override
  public void leaderChanged() {
    leadership.refresh();
  }

  @Override
  public CompletableFuture<ReplicaWriter.Applied> copy(int partition, String source, Runnable first) {
    return copyTarget.copy(partition, source, first);
  }

  @Override
  public boolean servingCopy(int partition) {
    return copySource.serving(partition);
  }

  /** Stops proposing, then the Raft server (the groups stay on disk), then the replica writer. Blocking. */
  public void close() {
    if (vertx != null && refreshTimer >= 0) {
      vertx.cancelTimer(refreshTimer);
    }
    if (admission != null) {
      admission.stop();
    }
    writer.close();
    if (copyTarget != null) {
      copyTarget.close();
    }
    if (server != null) {
      try {
        server.close();
      } catch (IOException e) {
        LOG.warn("closing the Raft server failed: {}", e.toString());
      }
    }
    if (copySource != null) {
      copySource.close();
    }
    replicas.close();
  }
}
