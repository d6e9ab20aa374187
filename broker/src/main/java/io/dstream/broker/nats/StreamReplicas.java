package io.dstream.broker.nats;

import io.dstream.broker.cluster.Leadership;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

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
   * {@code cluster: {name, leader, replicas: [{name, current, active, lag}]}} (the replicas other
   * than the leader, as JetStream lists them: {@code active} is the nanoseconds since the replica
   * last answered the leader, {@code lag} the applied entries it lacks); on a single node as it is,
   * since a lone nats-server has no such block. The leader answers stream info requests; a node
   * that does not lead the partition knows its replicas' names only.
   */
  JsonObject described(String subject, JsonObject info) {
    if (leadership == null) {
      return info;
    }
    int partition = leadership.placement().partitionOf(subject);
    String leader = leadership.leaderOf(partition);
    Map<String, Leadership.Follower> followers = new HashMap<>();
    for (Leadership.Follower follower : leadership.followers(partition)) {
      followers.put(follower.node(), follower);
    }
    JsonArray replicas = new JsonArray();
    for (String peer : peers(subject)) {
      if (!peer.equals(leader)) {
        JsonObject replica = new JsonObject().put("name", peer);
        Leadership.Follower seen = followers.get(peer);
        if (seen != null) {
          replica.put("current", seen.current()).put("active", TimeUnit.MILLISECONDS.toNanos(seen.lastAnsweredMs()))
              .put("lag", seen.lag());
        }
        replicas.add(replica);
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
