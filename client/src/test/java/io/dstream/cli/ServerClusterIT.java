package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dstream server cluster} against the packaged broker in cluster mode: a one-node cluster (its own
 * Hazelcast and Raft ports, one replica, four partitions, the embedded S3 server), whose every partition the node
 * leads once it is ready. The table names the node, its members and each partition's leader and role; with a
 * subject, its partition and leader. (The broker's cluster suite covers three nodes; this is the CLI's view.)
 */
@Tag("slow")
class ServerClusterIT {

  private static final long READY_SECONDS = 90;

  @Test
  void theClusterViewShowsEveryPartitionLedByTheOneNode(@TempDir Path workDir) throws Exception {
    int hazelcast = freePort();
    int raft = freePort();
    try (PackagedBroker broker = PackagedBroker.start(workDir, Map.of("DSTREAM_PORT", "0", "DSTREAM_NATS_PORT", "-1",
        "DSTREAM_CLUSTER_NODE_ID", "n1", "DSTREAM_CLUSTER_PEERS", "n1=127.0.0.1:" + hazelcast + ":" + raft,
        "DSTREAM_CLUSTER_REPLICAS", "1", "DSTREAM_CLUSTER_PARTITIONS", "4"))) {
      Map<String, String> env = Map.of("DSTREAM_URL", broker.url(), "DSTREAM_API_KEY",
          Files.readString(workDir.resolve("data").resolve("api-key")).trim(),
          "DSTREAM_CONFIG_DIR", workDir.resolve("config").toString());
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(READY_SECONDS);
      JsonObject cluster;
      do {
        assertTrue(System.nanoTime() < deadline, "no leader for every partition; log:\n"
            + String.join("\n", broker.log()));
        Thread.sleep(200);
        cluster = new JsonObject(PackagedBroker.dstream(workDir, env, "server", "cluster", "--json"));
      } while (cluster.getJsonArray("partition_list").stream().anyMatch(p -> ((JsonObject) p).getString("leader") == null));

      List<String> table = PackagedBroker.dstream(workDir, env, "server", "cluster").strip().lines().toList();
      assertEquals("node:        n1", table.get(0));
      assertEquals("members:     n1", table.get(1));
      assertEquals("partitions:  4, 4 led here, 0 without a leader", table.get(2));
      assertTrue(table.get(3).startsWith("PARTITION  LEADER"), table.get(3));
      assertEquals(4 + 4, table.size(), String.join("\n", table));
      for (int p = 0; p < 4; p++) {
        assertTrue(table.get(4 + p).matches(p + " +n1 +\\d+ +LEADER +\\d+ +n1"), table.get(4 + p));
      }
      String placed = PackagedBroker.dstream(workDir, env, "server", "cluster", "orders.eu.1");
      assertTrue(placed.matches("(?s)subject: +orders\\.eu\\.1\\npartition: +[0-3]\\nleader: +n1\\nreplicas: +n1\\n"),
          placed);
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }
}
