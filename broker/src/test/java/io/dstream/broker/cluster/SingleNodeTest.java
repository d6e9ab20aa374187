package io.dstream.broker.cluster;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.PublishAck;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Without cluster settings the broker is a single node: it publishes, and no thread of Hazelcast,
 * Ratis or its gRPC transport exists (no test in this JVM starts a cluster; ClusterIT runs its nodes
 * as child processes). Fails if single-node mode started either engine.
 */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
class SingleNodeTest {

  @Test
  void aBrokerWithoutClusterSettingsStartsNeitherHazelcastNorRaft() throws Exception {
    Vertx vertx = Vertx.vertx();
    try (TestBroker broker = TestBroker.start(vertx, b -> b.nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)))) {
      try (Connection nats = Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + broker.broker().natsPort())
          .token(TestBroker.API_KEY.toCharArray()).build())) {
        PublishAck ack = nats.jetStream().publish("single.node", "one".getBytes(StandardCharsets.UTF_8));
        assertEquals(1, ack.getSeqno());
      }
      List<String> engines = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
          .filter(name -> name.startsWith("hz.") || name.contains("StateMachineUpdater") || name.contains("RaftServer")
              || name.startsWith("grpc-") || name.contains("replica-writer") || name.contains("SegmentedRaftLog"))
          .toList();
      assertTrue(engines.isEmpty(), "cluster threads in single-node mode: " + engines);
    } finally {
      vertx.close().toCompletionStage().toCompletableFuture().get(30, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  @Test
  void clusterSettingsAreCheckedAtStart() {
    IllegalArgumentException missingSelf = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> TestClusterSettings.of("n4", List.of("n1=h:1:2", "n2=h:3:4"), 3, 16, 0,
            TestClusterSettings.COMMIT_INTERVAL));
    assertTrue(missingSelf.getMessage().contains("do not include this node 'n4'"), missingSelf.getMessage());
    IllegalArgumentException malformed = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> io.dstream.broker.config.ClusterSettings.parsePeers(List.of("n1=host:7701")));
    assertTrue(malformed.getMessage().contains("id=host:hazelcastPort:raftPort"), malformed.getMessage());
    for (Duration commit : List.of(Duration.ofMillis(-1), Duration.ofMillis(10_001))) {
      IllegalArgumentException interval = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> TestClusterSettings.of("n1", List.of("n1=h:1:2"), 1, 16, 0, commit));
      assertTrue(interval.getMessage().contains("store commit interval must be 0-10000 ms"), interval.getMessage());
    }
    for (int tokens : new int[] {-1, 17}) {
      IllegalArgumentException placement = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
          () -> TestClusterSettings.of("n1", List.of("n1=h:1:2"), 1, 16, tokens, TestClusterSettings.COMMIT_INTERVAL));
      assertTrue(placement.getMessage().contains("placement tokens must be 0-16, got " + tokens),
          placement.getMessage());
    }
    IllegalArgumentException page = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new io.dstream.broker.config.ClusterSettings.Copy(4096, Duration.ofSeconds(30)));
    assertTrue(page.getMessage().contains("copy page bytes must be 65536-67108864, got 4096"), page.getMessage());
    IllegalArgumentException timeout = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
        () -> new io.dstream.broker.config.ClusterSettings.Copy(1 << 20, Duration.ofMillis(10)));
    assertTrue(timeout.getMessage().contains("copy page timeout must be at least 1000 ms"), timeout.getMessage());
  }
}
