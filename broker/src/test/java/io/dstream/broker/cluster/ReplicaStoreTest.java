package io.dstream.broker.cluster;

import io.dstream.broker.config.ClusterSettings;
import io.dstream.broker.store.MvMessageStore;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.SubjectWrites;
import io.dstream.broker.store.SyncMode;
import io.dstream.broker.store.SyncPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A replica's side of cluster mode on a real H2 file, without Raft: entries survive their encoding,
 * a replica applies them with the partition's position in the same commit and refuses, the same way
 * everywhere, what a deposed leader proposed, and a copy of a partition replaces exactly that
 * partition's subjects in another replica's store.
 */
class ReplicaStoreTest {

  private static final SyncPolicy SYNC = new SyncPolicy(SyncMode.OS, Duration.ofMillis(200));
  private static final Duration COMMIT_INTERVAL = Duration.ofMillis(100);
  private static final long COMMIT_BYTES = 1 << 20;

  @TempDir
  Path dir;

  private static ClusterSettings settings() {
    return TestClusterSettings.of("n1", TestClusterSettings.THREE_PEERS, 3, 8, 0, COMMIT_INTERVAL);
  }

  private static StoreWrite.Append append(long sequence, String text) {
    return new StoreWrite.Append(sequence, 1_000 + sequence, text.getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void anEntryDecodesToTheSameWrites() {
    Entry entry = new Entry("n2", 42, List.of(
        new SubjectWrites("a", List.of(append(1, "x"), new StoreWrite.PutState("{\"k\":1}".getBytes(StandardCharsets.UTF_8), 1),
            new StoreWrite.PutView("ds", new byte[] {1, 2}), new StoreWrite.DeleteUpTo(1))),
        new SubjectWrites("b", List.of(new StoreWrite.Evict(5, 1, 2, 3), new StoreWrite.Destroy(),
            new StoreWrite.Restore(3, 9, 77, "{}".getBytes(StandardCharsets.UTF_8), 4, Map.of("records", new byte[] {7}))))));
    Entry decoded = Entry.decode(entry.encode());
    assertEquals("n2", decoded.origin());
    assertEquals(42, decoded.id());
    assertEquals(2, decoded.writes().size());
    StoreWrite.Append first = (StoreWrite.Append) decoded.writes().get(0).writes().get(0);
    assertEquals(1, first.sequence());
    assertArrayEquals("x".getBytes(StandardCharsets.UTF_8), first.payload());
    StoreWrite.Restore restore = (StoreWrite.Restore) decoded.writes().get(1).writes().get(2);
    assertEquals(9, restore.lastSequence());
    assertArrayEquals(new byte[] {7}, restore.views().get("records"));
    assertEquals(new StoreWrite.Evict(5, 1, 2, 3), decoded.writes().get(1).writes().get(0));
  }

  @Test
  void placementIsTheSameOnEveryNodeAndSpreadsPreferredLeaders() {
    Placement placement = new Placement(settings());
    assertEquals(List.of("n1", "n2", "n3"), placement.peersOf(0));
    assertEquals(List.of("n2", "n3", "n1"), placement.peersOf(1));
    assertEquals(List.of("n3", "n1", "n2"), placement.peersOf(2));
    assertEquals(Math.floorMod("orders".hashCode(), 8), placement.partitionOf("orders"));
    assertEquals(placement.groupId(3), new Placement(settings()).groupId(3));
  }

  @Test
  void aReplicaAppliesEntriesWithItsPositionAndRefusesWhatDoesNotFollow() throws Exception {
    try (MvMessageStore store = MvMessageStore.open(dir, 8, SYNC);
         ReplicaWriter writer = new ReplicaWriter(store, COMMIT_INTERVAL, COMMIT_BYTES)) {
      List<ReplicaWriter.Outcome> first = writer.apply(2, 1, 10, List.of(new SubjectWrites("s", List.of(append(1, "a"),
          append(2, "b"))))).get();
      assertNull(first.get(0).refusal());
      assertEquals(2, first.get(0).record().lastSequence());
      // A deposed leader proposed sequence 2 again; another subject in the same entry is applied.
      List<ReplicaWriter.Outcome> second = writer.apply(2, 2, 11, List.of(
          new SubjectWrites("s", List.of(append(2, "stale"))),
          new SubjectWrites("t", List.of(append(1, "c"))))).get();
      assertNotNull(second.get(0).refusal());
      assertNull(second.get(1).refusal());
      assertEquals(new ReplicaWriter.Applied(2, 11), writer.applied(2));
      assertEquals(ReplicaWriter.Applied.NONE, writer.applied(3));
      List<StoredMessage> messages = store.read(store.find("s").id(), 1, 10, Long.MAX_VALUE);
      assertEquals(List.of("a", "b"), messages.stream().map(m -> new String(m.payload(), StandardCharsets.UTF_8)).toList());
    }
  }

  /** A leader's store and a replica's, each written by its replica writer, under the test's directory. */
  private record Stores(MvMessageStore leader, ReplicaWriter leaderWriter, MvMessageStore replica, ReplicaWriter writer)
      implements AutoCloseable {
    static Stores open(Path dir) throws IOException {
      Files.createDirectories(dir.resolve("leader"));
      Files.createDirectories(dir.resolve("replica"));
      MvMessageStore leader = MvMessageStore.open(dir.resolve("leader"), 8, SYNC);
      MvMessageStore replica = MvMessageStore.open(dir.resolve("replica"), 8, SYNC);
      return new Stores(leader, new ReplicaWriter(leader, COMMIT_INTERVAL, COMMIT_BYTES), replica,
          new ReplicaWriter(replica, COMMIT_INTERVAL, COMMIT_BYTES));
    }

    @Override
    public void close() {
      writer.close();
      replica.close();
      leaderWriter.close();
      leader.close();
    }
  }

  /** Three subjects of partition 5 (in name order) and one of another partition, last. */
  private static List<String> subjects(Placement placement) {
    List<String> inPartition = new ArrayList<>();
    String elsewhere = null;
    for (int i = 0; inPartition.size() < 3 || elsewhere == null; i++) {
      String subject = "subject-" + i;
      if (placement.partitionOf(subject) == 5 && inPartition.size() < 3) {
        inPartition.add(subject);
      } else if (placement.partitionOf(subject) != 5 && elsewhere == null) {
        elsewhere = subject;
      }
    }
    inPartition.sort(null);
    inPartition.add(elsewhere);
    return inPartition;
  }

  /** Copies partition 5 from {@code source}'s store into {@code target}'s, through the page requests of a real copy. */
  private static ReplicaWriter.Applied copy(MvMessageStore source, ReplicaWriter sourceWriter, Path copies,
                                            MvMessageStore target, ReplicaWriter targetWriter, Placement placement,
                                            ClusterSettings.Copy bounds, List<Integer> pageSizes, Runnable afterFirstPage)
      throws Exception {
    try (CopySource served = new CopySource(source, sourceWriter, placement, copies, bounds);
         CopyTarget copier = new CopyTarget("n1", target, targetWriter, placement, p -> "n2", (node, request) -> {
           io.vertx.core.buffer.Buffer page = served.serve(request);
           pageSizes.add(page.length());
           if (pageSizes.size() == 1) {
             boolean last = page.getByte(4 + page.getInt(0)) == 1;
             assertEquals(!last, served.serving(5), "a copy under way, and only that, keeps the source from taking snapshots");
             afterFirstPage.run();
           }
           return page;
         }, bounds.pageBytes())) {
      ReplicaWriter.Applied applied = copier.copy(5, "n2", () -> { }).get();
      assertEquals(false, served.serving(5), "the session ended with its last page");
      try (Stream<Path> left = Files.list(copies)) {
        assertEquals(0, left.count(), "the manifest is deleted once the last page was sent");
      }
      return applied;
    }
  }

  @Test
  void aCopyReplacesExactlyItsPartitionsSubjects() throws Exception {
    Placement placement = new Placement(settings());
    List<String> subjects = subjects(placement);
    try (Stores stores = Stores.open(dir)) {
      MvMessageStore leader = stores.leader();
      ReplicaWriter leaderWriter = stores.leaderWriter();
      MvMessageStore replica = stores.replica();
      ReplicaWriter writer = stores.writer();
      leaderWriter.write(List.of(
          new SubjectWrites(subjects.get(0), List.of(append(1, "a1"), append(2, "a2"), append(3, "a3"),
              new StoreWrite.PutState("{\"v\":1}".getBytes(StandardCharsets.UTF_8), 1), new StoreWrite.DeleteUpTo(1))),
          new SubjectWrites(subjects.get(1), List.of(append(1, "b1"))),
          ReplicaWriter.markerWrite(5, 3, 70))).get();
      writer.write(List.of(new SubjectWrites(subjects.get(2), List.of(append(1, "stale"))),
          new SubjectWrites(subjects.get(3), List.of(append(1, "other"))))).get();

      assertEquals(new ReplicaWriter.Applied(3, 70),
          copy(leader, leaderWriter, dir.resolve("copies"), replica, writer, placement, ClusterSettings.Copy.DEFAULT,
              new ArrayList<>(), () -> { }));

      SubjectRecord a = replica.find(subjects.get(0));
      assertEquals(2, a.firstSequence());
      assertEquals(3, a.lastSequence());
      assertEquals(1, a.stateRevision());
      assertEquals("{\"v\":1}", new String(a.state(), StandardCharsets.UTF_8));
      assertEquals(List.of("a2", "a3"), replica.read(a.id(), 1, 10, Long.MAX_VALUE).stream()
          .map(m -> new String(m.payload(), StandardCharsets.UTF_8)).toList());
      assertEquals(1, replica.find(subjects.get(1)).lastSequence());
      assertNull(replica.find(subjects.get(2)), "a subject the copy does not hold is gone");
      assertEquals(1, replica.find(subjects.get(3)).lastSequence(), "other partitions are untouched");
      assertEquals(new ReplicaWriter.Applied(3, 70), writer.applied(5));
    }
  }

  /**
   * Pages end inside a subject's messages and between subjects; the copy is the state at its cut,
   * not what the source applied after it (the replica applies that from the log).
   */
  @Test
  void aCopyLargerThanAPageArrivesWholeAndAtItsCut() throws Exception {
    Placement placement = new Placement(settings());
    List<String> subjects = subjects(placement);
    byte[] payload = new byte[10_000];
    ClusterSettings.Copy bounds = new ClusterSettings.Copy(64 * 1024, Duration.ofSeconds(30));
    int perSubject = 2 * bounds.pageBytes() / payload.length + 7;
    try (Stores stores = Stores.open(dir)) {
      MvMessageStore leader = stores.leader();
      ReplicaWriter leaderWriter = stores.leaderWriter();
      MvMessageStore replica = stores.replica();
      ReplicaWriter writer = stores.writer();
      for (int s = 0; s < 3; s++) {
        List<StoreWrite> writes = new ArrayList<>();
        for (int i = 1; i <= perSubject; i++) {
          payload[0] = (byte) i;
          writes.add(new StoreWrite.Append(i, i, payload.clone()));
        }
        leaderWriter.write(List.of(new SubjectWrites(subjects.get(s), writes))).get();
      }
      leaderWriter.write(List.of(ReplicaWriter.markerWrite(5, 2, 9))).get();
      List<Integer> pages = new ArrayList<>();
      // An entry applied after the cut: the copy must not contain it.
      Runnable later = () -> leaderWriter.write(List.of(new SubjectWrites(subjects.get(2),
          List.of(new StoreWrite.Append(perSubject + 1, 0, payload))), ReplicaWriter.markerWrite(5, 2, 10))).join();
      ReplicaWriter.Applied applied = copy(leader, leaderWriter, dir.resolve("copies"), replica, writer, placement, bounds,
          pages, later);
      assertEquals(new ReplicaWriter.Applied(2, 9), applied);
      assertEquals(perSubject + 1, leader.find(subjects.get(2)).lastSequence());
      assertEquals(true, pages.size() >= 6, "pages " + pages);
      for (int page : pages) {
        assertEquals(true, page <= bounds.pageBytes() + payload.length + 200, "page of " + page + " bytes");
      }
      for (int s = 0; s < 3; s++) {
        SubjectRecord copied = replica.find(subjects.get(s));
        long last = perSubject;
        assertEquals(last, copied.lastSequence());
        List<StoredMessage> read = new ArrayList<>();
        for (long from = 1; from <= last; ) {
          List<StoredMessage> page = replica.read(copied.id(), from, 100, Long.MAX_VALUE);
          read.addAll(page);
          from = page.get(page.size() - 1).sequence() + 1;
        }
        assertEquals(last, read.size());
        for (int i = 0; i < read.size(); i++) {
          assertEquals(i + 1, read.get(i).sequence());
          assertEquals((byte) (i + 1), read.get(i).payload()[0]);
        }
      }
    }
  }

  /**
   * A replica that stops asking (it died, or restarted) must not keep the leader's manifest, nor its
   * snapshots of the partition held back, for good: the copy ends after twice the page timeout.
   */
  @Test
  void aCopyNobodyAsksForEndsAfterTwiceThePageTimeout() throws Exception {
    Placement placement = new Placement(settings());
    List<String> subjects = subjects(placement);
    ClusterSettings.Copy bounds = new ClusterSettings.Copy(64 * 1024, Duration.ofSeconds(1));
    Path copies = dir.resolve("copies");
    try (Stores stores = Stores.open(dir);
         CopySource served = new CopySource(stores.leader(), stores.leaderWriter(), placement, copies, bounds)) {
      List<StoreWrite> writes = new ArrayList<>();
      for (int i = 1; i <= 20; i++) {
        writes.add(new StoreWrite.Append(i, i, new byte[10_000]));
      }
      stores.leaderWriter().write(List.of(new SubjectWrites(subjects.get(0), writes), ReplicaWriter.markerWrite(5, 1, 4)))
          .get();
      io.vertx.core.buffer.Buffer first = served.serve(CopySource.request(5, "", 0, 0));
      assertEquals(0, first.getByte(4 + first.getInt(0)), "the first page is not the last");
      String session = first.getString(4, 4 + first.getInt(0));
      long started = System.nanoTime();
      assertEquals(true, served.serving(5));
      while (served.serving(5)) {
        assertEquals(true, System.nanoTime() - started < Duration.ofSeconds(10).toNanos(), "the copy never ended");
        Thread.sleep(100);
      }
      assertEquals(true, System.nanoTime() - started >= bounds.idle().toNanos() - Duration.ofMillis(150).toNanos(),
          "ended before twice the page timeout");
      try (Stream<Path> left = Files.list(copies)) {
        assertEquals(0, left.count(), "the manifest is deleted");
      }
      IOException late = org.junit.jupiter.api.Assertions.assertThrows(IOException.class,
          () -> served.serve(CopySource.request(5, session, 0, 0)));
      assertEquals(true, late.getMessage().contains("ended after 2000 ms without a request"), late.getMessage());
    }
  }
}
