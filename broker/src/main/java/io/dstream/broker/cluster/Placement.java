package io.dstream.broker.cluster;

import io.dstream.broker.config.ClusterSettings;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Which partition a subject belongs to and which nodes hold a partition: a function of the settings
 * alone, so every node computes the same answer without asking anyone. A subject's partition is the
 * hash of its placement key modulo the partition count: the whole subject, or with {@code
 * DSTREAM_CLUSTER_PLACEMENT_TOKENS} = n its first n tokens, so that every subject a pattern such as
 * {@code orders.>} matches (n = 1) is in one partition, led by one node, which can then run a
 * wildcard stream's consumers as a single node does. The broker's own subjects ({@code $...}) are
 * placed by their whole name. Partition {@code p}'s peers are the nodes (sorted by id) at
 * {@code p, p+1, ..., p+R-1} modulo their count, the first preferred as leader, so leaders spread.
 *
 * <p>Both numbers decide where every subject's messages are, so they are fixed for the life of the
 * cluster's data: {@link #pin} refuses to start with others than the data was written with.
 */
public final class Placement {

  private final ClusterSettings settings;
  private final RaftGroupId[] groupIds;
  /** Each partition's peers, the preferred leader first; fixed by the settings. */
  private final List<List<String>> peers;

  public Placement(ClusterSettings settings) {
    this.settings = settings;
    this.groupIds = new RaftGroupId[settings.partitions()];
    for (int p = 0; p < groupIds.length; p++) {
      groupIds[p] = RaftGroupId.valueOf(UUID.nameUUIDFromBytes(("dstream-partition-" + p).getBytes(StandardCharsets.UTF_8)));
    }
    List<ClusterSettings.Peer> nodes = settings.peers();
    List<List<String>> all = new ArrayList<>(groupIds.length);
    for (int p = 0; p < groupIds.length; p++) {
      List<String> ids = new ArrayList<>(settings.replicas());
      for (int k = 0; k < settings.replicas(); k++) {
        ids.add(nodes.get((p + k) % nodes.size()).id());
      }
      all.add(List.copyOf(ids));
    }
    this.peers = List.copyOf(all);
  }

  public int partitions() {
    return groupIds.length;
  }

  public int partitionOf(String subject) {
    int end = keyEnd(subject);
    if (end == subject.length()) {
      return Math.floorMod(subject.hashCode(), groupIds.length);
    }
    // The key's String hash, without making the key: this runs for every publish.
    int hash = 0;
    for (int i = 0; i < end; i++) {
      hash = 31 * hash + subject.charAt(i);
    }
    return Math.floorMod(hash, groupIds.length);
  }

  /** Where a subject's placement key ends: after its first n tokens, or at its end. */
  private int keyEnd(String subject) {
    int tokens = settings.placementTokens();
    if (tokens == 0 || subject.startsWith("$")) {
      return subject.length();
    }
    int at = -1;
    for (int t = 0; t < tokens; t++) {
      at = subject.indexOf('.', at + 1);
      if (at < 0) {
        return subject.length();
      }
    }
    return at;
  }

  /**
   * Whether every subject {@code pattern} (a valid one) matches is in one partition, that of
   * {@code pattern} itself: when the pattern's placement key has no wildcard, every match shares
   * that key. True for a literal subject; with whole subjects as keys, false for any pattern.
   */
  public boolean onePartition(String pattern) {
    int end = keyEnd(pattern);
    for (int i = 0; i < end; i++) {
      // Valid patterns have wildcards only as whole tokens.
      char c = pattern.charAt(i);
      if (c == '*' || c == '>') {
        return false;
      }
    }
    return true;
  }

  /**
   * Refuses to go on when the data under {@code file}'s directory was placed with another partition
   * count or placement key than the settings give (they would look for each subject in the wrong
   * partition); records them at the first start. Data written before this record existed
   * ({@code earlierData}) was placed by whole subjects.
   */
  void pin(Path file, boolean earlierData) throws IOException {
    String placed = "partitions=" + partitions() + " placementTokens=" + settings.placementTokens() + "\n";
    if (!Files.exists(file)) {
      Files.writeString(file, earlierData ? "partitions=" + partitions() + " placementTokens=0\n" : placed);
    }
    String recorded = Files.readString(file);
    if (!recorded.equals(placed)) {
      throw new IOException("cluster: this node's data was placed with " + recorded.strip() + " (" + file
          + "), not with " + placed.strip() + " as configured (DSTREAM_CLUSTER_PARTITIONS,"
          + " DSTREAM_CLUSTER_PLACEMENT_TOKENS); they are fixed for the life of a cluster's data");
    }
  }

  /** The partition of a Raft group, or -1 if it is not one of ours. */
  int partitionOf(RaftGroupId groupId) {
    for (int p = 0; p < groupIds.length; p++) {
      if (groupIds[p].equals(groupId)) {
        return p;
      }
    }
    return -1;
  }

  RaftGroupId groupId(int partition) {
    return groupIds[partition];
  }

  /** The ids of the partition's peers, the preferred leader first. */
  public List<String> peersOf(int partition) {
    return peers.get(partition);
  }

  boolean holds(int partition) {
    return peersOf(partition).contains(settings.nodeId());
  }

  RaftGroup group(int partition) {
    List<RaftPeer> peers = new ArrayList<>();
    List<String> ids = peersOf(partition);
    for (int k = 0; k < ids.size(); k++) {
      String id = ids.get(k);
      ClusterSettings.Peer node = settings.peers().stream().filter(n -> n.id().equals(id)).findFirst().orElseThrow();
      peers.add(RaftPeer.newBuilder().setId(id).setAddress(node.raftAddress()).setPriority(k == 0 ? 1 : 0).build());
    }
    return RaftGroup.valueOf(groupIds[partition], peers);
  }
}
