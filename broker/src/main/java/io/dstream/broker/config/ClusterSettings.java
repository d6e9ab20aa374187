package io.dstream.broker.config;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * Cluster mode (docs/cluster.md): this node's id, every node of the cluster with its Hazelcast and
 * Raft addresses, R replicas per partition, the fixed number of partitions and the subject tokens
 * they are a hash of (0: the whole subject), the Raft timeouts, the
 * snapshot period, how long a forwarded request may take, the largest Raft entry, how long a
 * silent member stays in the membership, the Raft log's segment size, how long applied entries
 * may wait for the store's commit, and the bounds of a partition copy. Absent (null in
 * {@link BrokerConfig}) in single-node mode.
 */
public record ClusterSettings(String nodeId, List<Peer> peers, int replicas, int partitions, int placementTokens,
                              Duration electionTimeoutMin, Duration electionTimeoutMax, Duration stepDownWait,
                              long snapshotEntries, Duration forwardTimeout, int maxEntryBytes, Duration memberTimeout,
                              long logSegmentBytes, Duration storeCommitInterval, Copy copy) {

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
  private static final int MAX_PLACEMENT_TOKENS = 16;

  /** One node: its id, host, Hazelcast port and Raft port. */
  public record Peer(String id, String host, int hazelcastPort, int raftPort) {

    /** {@code id=host:hazelcastPort:raftPort}. */
    static Peer parse(String spec) {
      String[] idAndAddress = spec.split("=", 2);
      String[] parts = idAndAddress.length == 2 ? idAndAddress[1].split(":") : new String[0];
      if (parts.length != 3) {
        throw new IllegalArgumentException("cluster peer '" + spec + "' is not id=host:hazelcastPort:raftPort");
      }
      try {
        return new Peer(idAndAddress[0].trim(), parts[0].trim(), Integer.parseInt(parts[1].trim()),
            Integer.parseInt(parts[2].trim()));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("cluster peer '" + spec + "' has a port that is not a number", e);
      }
    }

    public String raftAddress() {
      return host + ":" + raftPort;
    }
  }

  /**
   * The bounds of a partition copy, which a replica that lost its disk or fell behind the leader's
   * purged log fetches from the leader (docs/cluster.md): a page's bytes, held once on each side (the
   * replica installs four pages' worth per commit of its store), and how long the replica waits for
   * one page before it starts the copy again; the leader ends a copy that asked for no page for twice
   * that.
   */
  public record Copy(int pageBytes, Duration pageTimeout) {

    public static final Copy DEFAULT = new Copy(1 << 20, Duration.ofSeconds(30));

    public Copy {
      if (pageBytes < 64 * 1024 || pageBytes > 64 * 1024 * 1024) {
        throw new IllegalArgumentException("cluster copy page bytes must be 65536-67108864, got " + pageBytes);
      }
      if (pageTimeout.toMillis() < 1_000) {
        throw new IllegalArgumentException("cluster copy page timeout must be at least 1000 ms, got "
            + pageTimeout.toMillis() + " ms");
      }
    }

    /** How long the leader keeps a copy that asks for no page. */
    public Duration idle() {
      return pageTimeout.multipliedBy(2);
    }
  }

  public ClusterSettings {
    if (!ID.matcher(nodeId).matches()) {
      throw new IllegalArgumentException("cluster node id '" + nodeId + "' must be 1-64 letters, digits or '-'");
    }
    List<Peer> sorted = new ArrayList<>(peers);
    sorted.sort(Comparator.comparing(Peer::id));
    Set<String> ids = new HashSet<>();
    for (Peer peer : sorted) {
      if (!ID.matcher(peer.id()).matches() || !ids.add(peer.id())) {
        throw new IllegalArgumentException("cluster peer id '" + peer.id() + "' is invalid or repeated");
      }
    }
    if (!ids.contains(nodeId)) {
      throw new IllegalArgumentException("cluster peers " + ids + " do not include this node '" + nodeId + "'");
    }
    peers = List.copyOf(sorted);
    if (replicas < 1) {
      throw new IllegalArgumentException("cluster replicas must be at least 1, got " + replicas);
    }
    replicas = Math.min(replicas, peers.size());
    if (partitions < 1 || partitions > 1024) {
      throw new IllegalArgumentException("cluster partitions must be 1-1024, got " + partitions);
    }
    if (placementTokens < 0 || placementTokens > MAX_PLACEMENT_TOKENS) {
      throw new IllegalArgumentException("cluster placement tokens must be 0-" + MAX_PLACEMENT_TOKENS + ", got "
          + placementTokens);
    }
    if (electionTimeoutMin.toMillis() < 50 || electionTimeoutMax.compareTo(electionTimeoutMin) <= 0) {
      throw new IllegalArgumentException("cluster election timeouts must be at least 50 ms with max above min, got "
          + electionTimeoutMin.toMillis() + "/" + electionTimeoutMax.toMillis() + " ms");
    }
    if (maxEntryBytes < 64 * 1024) {
      throw new IllegalArgumentException("cluster max entry bytes must be at least 65536, got " + maxEntryBytes);
    }
    if (logSegmentBytes < 16 * 1024) {
      throw new IllegalArgumentException("cluster log segment bytes must be at least 16384, got " + logSegmentBytes);
    }
    if (memberTimeout.toSeconds() < 1) {
      throw new IllegalArgumentException("cluster member timeout must be at least 1 s, got " + memberTimeout.toMillis() + " ms");
    }
    if (storeCommitInterval.isNegative() || storeCommitInterval.toMillis() > 10_000) {
      throw new IllegalArgumentException("cluster store commit interval must be 0-10000 ms, got "
          + storeCommitInterval.toMillis() + " ms");
    }
    if (snapshotEntries < 1) {
      throw new IllegalArgumentException("cluster snapshot entries must be at least 1, got " + snapshotEntries);
    }
  }

  /** Parses {@code id=host:hazelcastPort:raftPort,...}. */
  public static List<Peer> parsePeers(List<String> specs) {
    return specs.stream().map(Peer::parse).toList();
  }

  public Peer self() {
    return peers.stream().filter(p -> p.id().equals(nodeId)).findFirst().orElseThrow();
  }
}
