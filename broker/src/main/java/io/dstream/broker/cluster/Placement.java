package io.dstream.broker.cluster;

import io.dstream.broker.config.ClusterSettings;
import org.apache.ratis.protocol.RaftGroup;
import org.apache.ratis.protocol.RaftGroupId;
import org.apache.ratis.protocol.RaftPeer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Which partition a subject belongs to and which nodes hold a partition: a function of the settings
 * alone, so every node computes the same answer without asking anyone. A subject's partition is its
 * hash modulo the partition count; partition {@code p}'s peers are the nodes (sorted by id) at
 * {@code p, p+1, ..., p+R-1} modulo their count, the first preferred as leader, so leaders spread.
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
    return Math.floorMod(subject.hashCode(), groupIds.length);
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
