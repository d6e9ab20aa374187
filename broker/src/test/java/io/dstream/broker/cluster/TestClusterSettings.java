package io.dstream.broker.cluster;

import io.dstream.broker.config.ClusterSettings;

import java.time.Duration;
import java.util.List;

/**
 * Cluster settings for the tests that need them without a cluster: the given node, peers, replicas,
 * partitions, placement key and store commit interval, every other setting fixed, so that a setting
 * added to {@link ClusterSettings} is given here once.
 */
final class TestClusterSettings {

  /** Three peers, n1 to n3, on ports nothing listens on. */
  static final List<String> THREE_PEERS = List.of("n1=127.0.0.1:1:2", "n2=127.0.0.1:3:4", "n3=127.0.0.1:5:6");
  static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);

  private TestClusterSettings() {
  }

  /** Node n1 of {@link #THREE_PEERS}, three replicas per partition. */
  static ClusterSettings threeNodes(int partitions, int placementTokens) {
    return of("n1", THREE_PEERS, 3, partitions, placementTokens, COMMIT_INTERVAL);
  }

  static ClusterSettings of(String nodeId, List<String> peers, int replicas, int partitions, int placementTokens,
                            Duration storeCommitInterval) {
    return new ClusterSettings(nodeId, ClusterSettings.parsePeers(peers), replicas, partitions, placementTokens,
        Duration.ofMillis(500), Duration.ofMillis(1000), Duration.ofMillis(2000), 100, Duration.ofSeconds(5), 1 << 20,
        Duration.ofSeconds(4), 8 << 20, storeCommitInterval, ClusterSettings.Copy.DEFAULT);
  }
}
