package io.dstream.broker.cluster;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.config.ClusterSettings;
import io.dstream.broker.store.SyncMode;
import java.nio.file.Path;
import org.apache.ratis.server.RaftServerConfigKeys;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DSTREAM_SYNC decides when a replica counts a Raft entry as written (docs/cluster.md). */
class RaftPropertiesTest {

  @TempDir
  Path dir;

  private static ClusterSettings settings() {
    return TestClusterSettings.threeNodes(8, 0);
  }

  @Test
  void alwaysForcesAnEntryBeforeItCountsAndOsCountsItOnceTheOsHasIt() {
    assertFalse(RaftServerConfigKeys.Log.unsafeFlushEnabled(ClusterNode.raftProperties(settings(), SyncMode.ALWAYS, dir)));
    assertTrue(RaftServerConfigKeys.Log.unsafeFlushEnabled(ClusterNode.raftProperties(settings(), SyncMode.OS, dir)));
  }
}
