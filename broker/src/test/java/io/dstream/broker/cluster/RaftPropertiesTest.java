package io.dstream.broker.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.config.ClusterSettings;
import io.dstream.broker.store.SyncMode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DSTREAM_SYNC decides when a replica counts a Raft entry as written (docs/cluster.md). */
class RaftPropertiesTest {

  @TempDir
  Path dir;

  private static ClusterSettings settings() {
    return new ClusterSettings("n1", ClusterSettings.parsePeers(List.of("n1=127.0.0.1:1:2", "n2=127.0.0.1:3:4",
        "n3=127.0.0.1:5:6")), 3, 8, 0, Duration.ofMillis(500), Duration.ofMillis(1000), Duration.ofMillis(2000), 100,
        Duration.ofSeconds(5), 1 << 20, Duration.ofSeconds(4), 8 << 20, Duration.ofMillis(100),
        ClusterSettings.Copy.DEFAULT);
  }

  @Test
  void alwaysForcesAnEntryBeforeItCountsAndOsCountsItOnceTheOsHasIt() {
    assertFalse(RaftServerConfigKeys.Log.unsafeFlushEnabled(ClusterNode.raftProperties(settings(), SyncMode.ALWAYS, dir)));
    assertTrue(RaftServerConfigKeys.Log.unsafeFlushEnabled(ClusterNode.raftProperties(settings(), SyncMode.OS, dir)));
  }
}
