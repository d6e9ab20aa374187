package io.dstream.broker.store;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@link MessageStore} contract on a real H2 file, and what only a file adds: restarts and space reuse. */
class MvMessageStoreTest extends MessageStoreContract {

  private Path dir;

  @Override
  protected MessageStore create() throws Exception {
    dir = Files.createTempDirectory("dstream-store");
    return MvMessageStore.open(dir, 8, SyncPolicy.always());
  }

  private void reopen(SyncPolicy sync) {
    store.close();
    store = MvMessageStore.open(dir, 8, sync);
  }

  /**
   * Chunk reuse (see {@link MvMessageStore}): with MVStore's default 45 s retention, 2,000
   * single-message commits grew the file by about 20 KB each (40 MB); with the retention the sync
   * mode allows, freed chunks are reused and the file stays small. Both modes, reopened intact.
   */
  @ParameterizedTest
  @EnumSource(SyncMode.class)
  void singleMessageCommitsReuseFreedSpaceSoTheFileStopsGrowing(SyncMode mode) throws Exception {
    SyncPolicy sync = new SyncPolicy(mode, Duration.ofMillis(1));
    reopen(sync);
    long id = store.open("a").id();
    int commits = 2_000;
    for (int i = 1; i <= commits; i++) {
      apply("a", new StoreWrite.Append(i, i, new byte[200]));
      store.commit();
      if (mode == SyncMode.ALWAYS || i % 100 == 0) {
        store.sync();
      }
    }
    long size = Files.size(dir.resolve("dstream.mv.db"));
    assertTrue(size < 8L * 1024 * 1024, "file of " + size + " bytes after " + commits + " commits of 200 bytes");
    reopen(sync);
    assertEquals(commits, store.open("a").lastSequence());
    assertEquals(commits, store.read(id, 1, commits, Long.MAX_VALUE).size());
  }

  /**
   * Readers run on other threads while the writer commits and, with a short retention, reuses the
   * space of chunks it freed: a reader still traversing an older version must never land on such a
   * chunk (see {@link MvMessageStore}). Bounded: 4,000 single-message commits.
   */
  @ParameterizedTest
  @EnumSource(SyncMode.class)
  void readsOnOtherThreadsNeverSeeAReusedChunk(SyncMode mode) throws Exception {
    store.close();
    store = MvMessageStore.open(dir, 1, new SyncPolicy(mode, Duration.ofMillis(1)));
    long id = store.open("a").id();
    int commits = 4_000;
    AtomicLong committed = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicBoolean done = new AtomicBoolean();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      Thread reader = new Thread(() -> {
        Random random = new Random();
        try {
          while (!done.get()) {
            long last = committed.get();
            if (last == 0) {
              continue;
            }
            long from = 1 + random.nextInt((int) last);
            List<StoredMessage> page = store.read(id, from, 500, Long.MAX_VALUE);
            for (int i = 0; i < page.size(); i++) {
              if (page.get(i).sequence() != from + i || page.get(i).payload().length != 200) {
                throw new AssertionError("read from " + from + " returned " + page.get(i).sequence());
              }
            }
            store.find("a");
            store.firstSequenceAtOrAfter(id, random.nextInt((int) last) + 1);
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      reader.start();
      readers.add(reader);
    }
    for (int i = 1; i <= commits && failure.get() == null; i++) {
      apply("a", new StoreWrite.Append(i, i, new byte[200]));
      store.commit();
      committed.set(i);
      if (mode == SyncMode.ALWAYS || i % 50 == 0) {
        store.sync();
      }
    }
    done.set(true);
    for (Thread reader : readers) {
      reader.join(10_000);
    }
    if (failure.get() != null) {
      throw new AssertionError("a concurrent read failed", failure.get());
    }
  }

  @Test
  void committedWritesSurviveReopenAndIdsAreNeverReused() {
    long id = store.open("a").id();
    commit("a", append(1, 1, "one"), new StoreWrite.PutState(bytes("{\"k\":1}"), 1),
        new StoreWrite.PutView("records", SubjectRecord.longView(42)));
    apply("a", append(2, 2, "applied, never committed"));
    reopen(SyncPolicy.always());
    SubjectRecord record = store.open("a");
    assertEquals(id, record.id());
    assertEquals(1, record.lastSequence());
    assertEquals(1, record.lastTimestampMs());
    assertArrayEquals(bytes("{\"k\":1}"), record.state());
    assertEquals(42, SubjectRecord.longValue(record.view("records")));
    assertEquals(1, store.read(id, 1, 10, Long.MAX_VALUE).size());
    assertEquals(id + 1, store.open("b").id(), "subject ids are never reused");
    SubjectRecord next = commit("a", append(2, 3, "two"));
    assertEquals(2, next.lastSequence(), "appends continue after the reopened end of the log");
    assertEquals(2, store.read(id, 1, 10, Long.MAX_VALUE).size());
  }

  @Test
  void aDestroyedAndRecreatedSubjectSurvivesReopen() {
    store.open("a");
    store.open("b");
    commit("a", append(1, 1, "old"));
    commit("a", new StoreWrite.Destroy());
    SubjectRecord fresh = commit("a", append(1, 10, "fresh"));
    reopen(SyncPolicy.always());
    assertEquals(fresh.id(), store.open("a").id());
    assertArrayEquals(bytes("fresh"), store.read(fresh.id(), 1, 10, Long.MAX_VALUE).get(0).payload());
  }

  @Test
  void compactionAfterDeletesKeepsWhatIsRetained() {
    long id = store.open("big").id();
    for (int i = 1; i <= 20_000; i += 1000) {
      List<StoreWrite> writes = new ArrayList<>();
      for (int j = i; j < i + 1000; j++) {
        writes.add(append(j, j, "payload-" + j + "-" + "x".repeat(100)));
      }
      commit("big", writes.toArray(StoreWrite[]::new));
    }
    commit("big", new StoreWrite.DeleteUpTo(19_000));
    store.compact();
    reopen(SyncPolicy.always());
    List<StoredMessage> retained = store.read(id, 1, 5_000, Long.MAX_VALUE);
    assertEquals(1_000, retained.size());
    assertEquals(19_001, retained.get(0).sequence());
    assertArrayEquals(bytes("payload-20000-" + "x".repeat(100)), retained.get(999).payload());
    assertEquals(19_001, store.open("big").firstSequence());
  }

  /** A copy of the store file taken now, as a SIGKILL would leave it (everything committed is in it). */
  private Path crashCopy() throws Exception {
    Path copy = Files.createTempDirectory("dstream-crash");
    Files.copy(dir.resolve("dstream.mv.db"), copy.resolve("dstream.mv.db"));
    return copy;
  }

  /** Interleaved commits of {@code subjects} subjects, {@code commits} rounds of one message each; returns their ids. */
  private long[] interleave(int subjects, int commits) {
    long[] ids = new long[subjects];
    for (int s = 0; s < subjects; s++) {
      ids[s] = store.open("i" + s).id();
    }
    for (int c = 1; c <= commits; c++) {
      List<SubjectWrites> group = new ArrayList<>(subjects);
      for (int s = 0; s < subjects; s++) {
        group.add(new SubjectWrites("i" + s, List.of(append(c, c, s + ":" + c))));
      }
      store.apply(group);
      store.commit();
    }
    return ids;
  }

  /** Subjects {@code first} and after of {@link #interleave} read back whole. */
  private static void assertInterleavedIntact(MessageStore store, long[] ids, int first, int commits) {
    for (int s = first; s < ids.length; s++) {
      List<StoredMessage> read = store.read(ids[s], 1, Integer.MAX_VALUE, Long.MAX_VALUE);
      assertEquals(commits, read.size(), "subject " + s);
      for (int c = 1; c <= commits; c++) {
        assertArrayEquals(bytes(s + ":" + c), read.get(c - 1).payload(), "subject " + s + " message " + c);
      }
      assertEquals(commits / 2, store.read(ids[s], commits / 2, 1, Long.MAX_VALUE).get(0).sequence());
    }
  }

  /**
   * The run starts of recent commits live in memory ({@link MessageLog}); after a crash they are
   * rebuilt from the log, including a run trimmed by a deletion and a subject that appended alone.
   */
  @Test
  void aCrashLosesNoRunStartThatWasOnlyInMemory() throws Exception {
    long[] ids = interleave(5, 40);
    long alone = store.open("alone").id();
    for (int i = 1; i <= 30; i++) {
      commit("alone", append(i, i, "alone " + i));
    }
    commit("i0", new StoreWrite.DeleteUpTo(25));
    MessageStore recovered = MvMessageStore.open(crashCopy(), 8, SyncPolicy.always());
    try {
      assertEquals(26, recovered.read(ids[0], 1, 100, Long.MAX_VALUE).get(0).sequence());
      assertEquals(15, recovered.read(ids[0], 1, 100, Long.MAX_VALUE).size());
      assertInterleavedIntact(recovered, ids, 1, 40);
      assertEquals(30, recovered.read(alone, 1, 100, Long.MAX_VALUE).size());
      assertEquals(12, recovered.firstSequenceAtOrAfter(alone, 12));
    } finally {
      recovered.close();
    }
  }

  /**
   * 1,000 subjects in each of 105 commits start 105,000 runs, more than the in-memory tail holds:
   * the tail moves into the {@code runs} map in a commit, and everything reads back the same before
   * and after a crash and a clean reopen.
   */
  @Test
  void manySubjectsPerCommitMoveTheRunStartsIntoTheIndexIntact() throws Exception {
    int commits = 105;
    long[] ids = interleave(1000, commits);
    assertInterleavedIntact(store, ids, 0, commits);
    Path crashed = crashCopy();
    try (MVStore raw = MVStore.open(crashed.resolve("dstream.mv.db").toString())) {
      MVMap<String, Long> meta = raw.openMap("meta");
      assertTrue(meta.get(MessageLog.INDEXED_UP_TO) > 0, "the tail was moved into the runs map");
    }
    MessageStore recovered = MvMessageStore.open(crashed, 8, SyncPolicy.always());
    try {
      assertInterleavedIntact(recovered, ids, 0, commits);
    } finally {
      recovered.close();
    }
    reopen(SyncPolicy.always());
    assertInterleavedIntact(store, ids, 0, commits);
  }

  /**
   * Readers on other threads page through interleaved subjects while the writer appends, starts runs
   * in memory and moves 55,000 of them into the {@code runs} map: every page is the committed
   * sequences from where it started, in order, with their own payloads.
   */
  @Test
  void readsOnOtherThreadsStayWholeWhileRunStartsMoveIntoTheIndex() throws Exception {
    int subjects = 500;
    int commits = 110;
    long[] ids = new long[subjects];
    for (int s = 0; s < subjects; s++) {
      ids[s] = store.open("i" + s).id();
    }
    AtomicLong committed = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    AtomicBoolean done = new AtomicBoolean();
    List<Thread> readers = new ArrayList<>();
    for (int r = 0; r < 2; r++) {
      Thread reader = new Thread(() -> {
        Random random = new Random();
        try {
          while (!done.get()) {
            long last = committed.get();
            if (last == 0) {
              continue;
            }
            int s = random.nextInt(subjects);
            long from = 1 + random.nextInt((int) last);
            List<StoredMessage> page = store.read(ids[s], from, 50, Long.MAX_VALUE);
            if (page.size() < Math.min(50, last - from + 1)) {
              throw new AssertionError("subject " + s + " from " + from + " of " + last + ": " + page.size() + " messages");
            }
            for (int i = 0; i < page.size(); i++) {
              if (page.get(i).sequence() != from + i || !new String(page.get(i).payload()).equals(s + ":" + (from + i))) {
                throw new AssertionError("subject " + s + " from " + from + " returned " + page.get(i).sequence());
              }
            }
          }
        } catch (Throwable e) {
          failure.compareAndSet(null, e);
        }
      });
      reader.start();
      readers.add(reader);
    }
    for (int c = 1; c <= commits && failure.get() == null; c++) {
      List<SubjectWrites> group = new ArrayList<>(subjects);
      for (int s = 0; s < subjects; s++) {
        group.add(new SubjectWrites("i" + s, List.of(append(c, c, s + ":" + c))));
      }
      store.apply(group);
      store.commit();
      committed.set(c);
    }
    done.set(true);
    for (Thread reader : readers) {
      reader.join(10_000);
    }
    if (failure.get() != null) {
      throw new AssertionError("a concurrent read failed", failure.get());
    }
  }
}
