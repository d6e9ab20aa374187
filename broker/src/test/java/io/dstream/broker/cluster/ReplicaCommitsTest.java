package io.dstream.broker.cluster;

import io.dstream.broker.store.MvMessageStore;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.SubjectWrites;
import io.dstream.broker.store.SyncMode;
import io.dstream.broker.store.SyncPolicy;
import io.dstream.broker.store.WatchedStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * When a replica's store commits the entries it applied (ReplicaWriter): an entry is answered once
 * applied, readable at once; the store commits the entries applied since its last commit when the
 * commit interval passed, when their writes reach the byte bound, before a task on the writer thread
 * and when the writer closes; and a failed commit loses none of the answered entries. On a real H2
 * file, watched through the store interface.
 */
class ReplicaCommitsTest {

  private static final SyncPolicy SYNC = new SyncPolicy(SyncMode.OS, Duration.ofMillis(200));
  private static final Duration NEVER = Duration.ofHours(1);
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  Path dir;

  private static StoreWrite.Append append(long sequence, int bytes) {
    return new StoreWrite.Append(sequence, 1_000 + sequence, new byte[bytes]);
  }

  private static List<ReplicaWriter.Outcome> apply(ReplicaWriter writer, long index, StoreWrite.Append append)
      throws Exception {
    return writer.apply(1, 1, index, List.of(new SubjectWrites("s", List.of(append)))).get();
  }

  @Test
  void entriesAreAnsweredOnceAppliedAndCommittedTogetherOnceTheirBytesReachTheBound() throws Exception {
    try (MvMessageStore real = MvMessageStore.open(dir, 8, SYNC)) {
      WatchedStore store = new WatchedStore(real);
      ReplicaWriter writer = new ReplicaWriter(store, NEVER, 4096);
      for (int i = 1; i <= 10; i++) {
        List<ReplicaWriter.Outcome> outcome = apply(writer, i, append(i, 10));
        assertNull(outcome.get(0).refusal());
        assertEquals(i, store.find("s").lastSequence(), "readable once answered");
      }
      assertEquals(new ReplicaWriter.Applied(1, 10), writer.applied(1));
      assertEquals(0, store.commits.get(), "ten entries of 10 bytes wait for the commit");
      apply(writer, 11, append(11, 5000));
      ClusterClients.await(() -> store.commits.get() == 1, WAIT,
          "the commit of the entry past the byte bound, with those before it");
      apply(writer, 12, append(12, 10));
      assertEquals(1, store.commits.get());
      writer.close();
      assertEquals(2, store.commits.get(), "the writer commits what it applied when it closes");
    }
  }

  @Test
  void appliedEntriesAreCommittedOnceTheIntervalPassesWithoutAnotherEntry() throws Exception {
    try (MvMessageStore real = MvMessageStore.open(dir, 8, SYNC)) {
      WatchedStore store = new WatchedStore(real);
      try (ReplicaWriter writer = new ReplicaWriter(store, Duration.ofMillis(50), 1 << 20)) {
        apply(writer, 1, append(1, 10));
        ClusterClients.await(() -> store.commits.get() == 1, WAIT, "the commit after the interval");
      }
    }
  }

  @Test
  void aFailedCommitLosesNoAnsweredEntry() throws Exception {
    try (MvMessageStore real = MvMessageStore.open(dir, 8, SYNC)) {
      WatchedStore store = new WatchedStore(real);
      try (ReplicaWriter writer = new ReplicaWriter(store, NEVER, 1 << 20)) {
        for (int i = 1; i <= 3; i++) {
          apply(writer, i, append(i, 10));
        }
        store.failingCommits.set(1);
        // A task runs between two commits: the three entries are committed first, and that commit fails.
        assertEquals(3L, writer.run(() -> store.find("s").lastSequence()).get());
        assertTrue(store.events.contains("rollback"), "the failed commit rolled the store back: " + store.events);
        assertEquals(1, store.commits.get(), "the entries were applied again and committed");
      }
    }
    try (MvMessageStore reopened = MvMessageStore.open(dir, 8, SYNC)) {
      assertEquals(3, reopened.find("s").lastSequence(), "all three entries are in the file");
      assertEquals(3, reopened.read(reopened.find("s").id(), 1, 10, Long.MAX_VALUE).size());
      assertEquals(new ReplicaWriter.Applied(1, 3), applied(reopened));
    }
  }

  private static ReplicaWriter.Applied applied(MvMessageStore store) {
    try (ReplicaWriter writer = new ReplicaWriter(store, NEVER, 1 << 20)) {
      return writer.applied(1);
    }
  }
}
