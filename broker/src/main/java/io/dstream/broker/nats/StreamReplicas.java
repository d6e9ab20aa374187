package io.dstream.broker.nats;

import io.dstream.broker.cluster.Leadership;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.List;

/**
 * What a stream's info says of its copies, as JetStream's {@code num_replicas} and {@code cluster}
 * do. A stream is its subject, so its copies are the subject's: one on a single node; in cluster
 * mode the replicas of the subject's partition (docs/cluster.md), whichever count the declaration
 * asked for, since replication is the cluster's setting, not a stream's.
 */
final class StreamReplicas {

  /** JetStream's cluster name in a stream's info; ours have no name of their own. */
  private static final String CLUSTER_NAME = "dstream";

  /** Null on a single node. */
  private final Leadership leadership;

  StreamReplicas(Leadership leadership) {
    this.leadership = leadership;
  }

  int count(String subject) {
    return leadership == null ? 1 : peers(subject).size();
  }

  /**
   * The stream info {@code info} of the subject's stream, in cluster mode with the block
   * {@code cluster: {name, leader, replicas: [{name}]}} (the replicas other than the leader, as
   * JetStream lists them); on a single node as it is, since a lone nats-server has no such block.
   * Whether a replica is current is not known here, so it is not said (jnats reads it as false).
   */
  JsonObject described(String subject, JsonObject info) {
    if (leadership == null) {
      return info;
    }
    String leader = leadership.leaderOf(leadership.placement().partitionOf(subject));
    JsonArray replicas = new JsonArray();
    for (String peer : peers(subject)) {
      if (!peer.equals(leader)) {
        replicas.add(new JsonObject().put("name", peer));
      }
    }
    JsonObject cluster = new JsonObject().put("name", CLUSTER_NAME).put("replicas", replicas);
    if (leader != null) {
      cluster.put("leader", leader);
    }
    return info.put("cluster", cluster);
  }

  private List<String> peers(String subject) {
    return leadership.placement().peersOf(leadership.placement().partitionOf(subject));
  }
}
