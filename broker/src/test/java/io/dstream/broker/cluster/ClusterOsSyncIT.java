package io.dstream.broker.cluster;

import static io.dstream.broker.cluster.ClusterClients.await;
import static io.dstream.broker.cluster.ClusterClients.jetStream;
import static io.dstream.broker.cluster.ClusterClients.publishUntilAcked;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.dstream.broker.ClusterProcesses;
import io.nats.client.Connection;
import io.nats.client.api.PublishAck;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code DSTREAM_SYNC=os} in cluster mode (docs/cluster.md): a replica counts an entry as written
 * once its OS has it and forces it right after. Three nodes as child JVMs, all killed with
 * {@code kill -9} under pipelined publishing: what the processes handed their OS is still written,
 * so every acknowledged message is back on every node after the restart. Would fail if an entry
 * counted as written while only in a process's own buffers.
 */
@Tag("slow")
@Tag("cluster")
@Timeout(value = 4, unit = TimeUnit.MINUTES)
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
class ClusterOsSyncIT {

  private static final Duration CATCH_UP = Duration.ofSeconds(60);
  private static final Duration WAIT = Duration.ofSeconds(30);

  @TempDir
  Path dir;

  @Test
  void killingEveryNodeUnderPipelinedPublishingLosesNoAcknowledgedMessage() throws Exception {
    try (ClusterProcesses cluster = ClusterProcesses.start(dir, 3, Map.of("DSTREAM_SYNC", "os",
        "DSTREAM_CLUSTER_PARTITIONS", "4"))) {
      String subject = "os.orders";
      AckLedger ledger = new AckLedger(subject);
      String via = cluster.otherThan(cluster.leaderOf(subject)).get(0);
      try (Connection nc = ClusterClients.connect(cluster.natsUrl(via), Duration.ofSeconds(2));
           PipelinedPublisher publisher = new PipelinedPublisher(jetStream(nc, WAIT), ledger, "os", 100)) {
        await(() -> ledger.size() >= 500, CATCH_UP, "500 acknowledged publishes before the kills");
        for (String node : cluster.nodeIds()) {
          cluster.kill9(node);
        }
        System.out.printf("%s: every node killed with %d messages acknowledged%n", subject, ledger.size());
      }
      cluster.startAllStopped();
      List<Replica> replicas = Replica.awaitConverged(cluster, cluster.nodeIds(), subject, ledger.maxSequence(), CATCH_UP);
      for (Replica replica : replicas) {
        // Publishes in flight at the kills may be stored unacknowledged: all acknowledged ones must be there.
        ledger.assertHeldBy(replica);
        replica.assertGapFreeFromOne();
        replica.assertNoPayloadTwice();
        replica.assertSameAs(replicas.get(0));
      }
      try (Connection nc = ClusterClients.connect(cluster.natsUrl(via), Duration.ofSeconds(2))) {
        PublishAck next = publishUntilAcked(jetStream(nc, Duration.ofSeconds(5)), ledger, "os-after-restart", WAIT);
        assertEquals(replicas.get(0).lastSequence() + 1, next.getSeqno(), "the sequence after the restart");
      }
    }
  }
}
