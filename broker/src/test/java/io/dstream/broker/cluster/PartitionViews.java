package io.dstream.broker.cluster;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import io.dstream.broker.ClusterProcesses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/** What the nodes of a test cluster say about their partitions ({@code GET /admin/cluster}), and waits on it. */
final class PartitionViews {

  private PartitionViews() {
  }

  /** One partition as {@code node} sees it. */
  static JsonObject of(ClusterProcesses cluster, String node, int partition) throws IOException, InterruptedException {
    return cluster.adminGet(node, "/admin/cluster").getJsonArray("partition_list").getJsonObject(partition);
  }

  /**
   * Waits until {@code node} votes in every partition (its leader counts it among the voters) and
   * applied it as far as the partition's leader did.
   */
  static void awaitEveryPartitionCaughtUp(ClusterProcesses cluster, String node, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      JsonArray partitions = cluster.adminGet(node, "/admin/cluster").getJsonArray("partition_list");
      List<String> behind = new ArrayList<>();
      for (int p = 0; p < partitions.size(); p++) {
        JsonObject mine = partitions.getJsonObject(p);
        String leader = mine.getString("leader");
        JsonObject leaders = leader == null ? null : of(cluster, leader, p);
        long leaderApplied = leaders == null ? Long.MAX_VALUE : leaders.getLong("applied");
        boolean voter = leaders != null && leaders.getJsonArray("voters").contains(node);
        if (mine.getLong("applied") < leaderApplied || !voter
            || !List.of("FOLLOWER", "LEADER").contains(mine.getString("role"))) {
          behind.add("partition " + p + " at " + mine.getLong("applied") + " as " + mine.getString("role")
              + ", its leader " + leader + " at " + leaderApplied + " with voters "
              + (leaders == null ? null : leaders.getJsonArray("voters")));
        }
      }
      if (behind.isEmpty()) {
        return;
      }
      assertTrue(System.nanoTime() < deadline, node + " stayed behind: " + behind);
      Thread.sleep(500);
    }
  }



  /** Which nodes each node says lead each partition at which term: partition -> term -> nodes reporting LEADER. */
  private static Map<Integer, Map<Long, Set<String>>> leaderClaims(ClusterProcesses cluster, List<String> nodes)
      throws Exception {
    Map<Integer, Map<Long, Set<String>>> claims = new HashMap<>();
    for (String node : nodes) {
      JsonArray partitions = cluster.adminGet(node, "/admin/cluster").getJsonArray("partition_list");
      for (int i = 0; i < partitions.size(); i++) {
        JsonObject partition = partitions.getJsonObject(i);
        if ("LEADER".equals(partition.getString("role"))) {
          claims.computeIfAbsent(partition.getInteger("partition"), p -> new HashMap<>())
              .computeIfAbsent(partition.getLong("term"), t -> new TreeSet<>()).add(node);
        }
      }
    }
    return claims;
  }

  /** No partition has two nodes claiming its leadership for one term (a stale claim at an older term is allowed). */
  static void assertAtMostOneLeaderPerTerm(ClusterProcesses cluster, List<String> nodes) throws Exception {
    Map<Integer, Map<Long, Set<String>>> claims = leaderClaims(cluster, nodes);
    claims.forEach((partition, byTerm) -> byTerm.forEach((term, leaders) -> assertTrue(leaders.size() <= 1,
        "split brain: partition " + partition + " has leaders " + leaders + " at term " + term + "; all claims: " + claims)));
  }

  /** Polls until each partition has exactly one node claiming its leadership and every node names that one. */
  static void awaitOneAgreedLeaderPerPartition(ClusterProcesses cluster, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String state;
    do {
      assertAtMostOneLeaderPerTerm(cluster, cluster.nodeIds());
      Map<Integer, Map<Long, Set<String>>> claims = leaderClaims(cluster, cluster.nodeIds());
      Map<Integer, Set<String>> named = new HashMap<>();
      int partitions = 0;
      for (String node : cluster.nodeIds()) {
        JsonArray list = cluster.adminGet(node, "/admin/cluster").getJsonArray("partition_list");
        partitions = list.size();
        for (int i = 0; i < list.size(); i++) {
          JsonObject partition = list.getJsonObject(i);
          named.computeIfAbsent(partition.getInteger("partition"), p -> new TreeSet<>())
              .add(String.valueOf(partition.getString("leader")));
        }
      }
      boolean settled = claims.size() == partitions && claims.values().stream()
          .allMatch(byTerm -> byTerm.values().stream().mapToInt(Set::size).sum() == 1)
          && named.values().stream().allMatch(leaders -> leaders.size() == 1);
      if (settled) {
        return;
      }
      state = "claims " + claims + ", leaders named " + named;
      Thread.sleep(250);
    } while (System.nanoTime() < deadline);
    fail("the partitions did not settle on one agreed leader each within " + timeout + ": " + state);
  }
}
