package io.dstream.broker.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The {@link MessageStore} contract on a real H2 file. */
class MvMessageStoreTest {

  private Path dir;
  private MessageStore store;

  @BeforeEach
  void open() throws Exception {
    dir = Files.createTempDirectory("dstream-store");
    store = MvMessageStore.open(dir, 8, SyncMode.ALWAYS, Duration.ofMillis(200));
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Chunk reuse (see {@link MvMessageStore}): with MVStore's default 45 s retention, 2,000
   * single-message commits grew the file by about 20 KB each (40 MB); with the retention the sync
   * mode allows, freed chunks are reused and the file stays small. Both modes, reopened intact.
   */
  @ParameterizedTest
  @EnumSource(SyncMode.class)
  void singleMessageCommitsReuseFreedSpaceSoTheFileStopsGrowing(SyncMode mode) throws Exception {
    store.close();
    dir = Files.createTempDirectory("dstream-store");
    store = MvMessageStore.open(dir, 8, mode, Duration.ofMillis(1));
    long id = store.open("a").id();
    int commits = 2_000;
    for (int i = 1; i <= commits; i++) {
      store.append("a", i, i, new byte[200]);
      store.commit();
      if (i % 100 == 0) {
        store.syncIfDue();
      }
    }
    long size = Files.size(dir.resolve("dstream.mv.db"));
    assertTrue(size < 8L * 1024 * 1024, "file of " + size + " bytes after " + commits + " commits of 200 bytes");
    store.close();
    store = MvMessageStore.open(dir, 8, mode, Duration.ofMillis(1));
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
    dir = Files.createTempDirectory("dstream-store");
    store = MvMessageStore.open(dir, 1, mode, Duration.ofMillis(1));
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
      store.append("a", i, i, new byte[200]);
      store.commit();
      committed.set(i);
      if (i % 50 == 0) {
        store.syncIfDue();
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
  void newSubjectIsEmptyWithDefaultState() {
    SubjectRecord record = store.open("a");
    assertEquals(0, record.lastSequence());
    assertEquals(1, record.firstSequence());
    assertEquals(0, record.messages());
    assertArrayEquals(bytes("{}"), record.state());
    assertEquals(record.id(), store.open("a").id());
  }

  @Test
  void appendsAreReadBackInOrderPerSubject() {
    long a = store.open("a").id();
    long b = store.open("b").id();
    for (int i = 1; i <= 5; i++) {
      store.append("a", i, 1000 + i, bytes("a" + i));
      store.append("b", i, 2000 + i, bytes("b" + i));
    }
    List<StoredMessage> read = store.read(a, 2, 10, Long.MAX_VALUE);
    assertEquals(4, read.size());
    assertEquals(2, read.get(0).sequence());
    assertEquals(1002, read.get(0).timestampMs());
    assertArrayEquals(bytes("a5"), read.get(3).payload());
    assertEquals(2, store.read(b, 4, 10, Long.MAX_VALUE).size());
    assertEquals(3, store.read(a, 1, 3, Long.MAX_VALUE).size());
    assertEquals(1, store.read(a, 1, 10, 1).size(), "the byte bound still returns one message");
    SubjectRecord record = store.record("a");
    assertEquals(5, record.lastSequence());
    assertEquals(5, record.messages());
    assertEquals(10, record.bytes());
  }

  @Test
  void gapsAndRepeatsAreRefused() {
    store.open("a");
    store.append("a", 1, 1, bytes("x"));
    assertThrows(StoreException.class, () -> store.append("a", 1, 1, bytes("again")));
    assertThrows(StoreException.class, () -> store.append("a", 3, 1, bytes("gap")));
    assertThrows(StoreException.class, () -> store.append("never-opened", 2, 1, bytes("gap on a new subject")));
  }

  @Test
  void destroyRemovesMessagesStateAndRecordAndTheNextWriteStartsANewSubject() {
    long id = store.open("a").id();
    long other = store.open("b").id();
    for (int i = 1; i <= 3; i++) {
      store.append("a", i, i, bytes("m" + i));
    }
    store.append("b", 1, 1, bytes("b1"));
    store.putState("a", bytes("{\"k\":1}"));
    store.setProducerVersion("a", 7);
    store.commit();
    store.destroy("a");
    assertEquals(0, store.record("a").id(), "a destroyed subject has no record");
    store.commit();
    assertEquals(0, store.read(id, 1, 10, Long.MAX_VALUE).size());
    assertEquals(1, store.read(other, 1, 10, Long.MAX_VALUE).size(), "other subjects keep their messages");
    store.append("a", 1, 10, bytes("fresh"));
    SubjectRecord fresh = store.record("a");
    assertTrue(fresh.id() > other, "a new id, never a reused one");
    assertEquals(1, fresh.lastSequence());
    assertEquals(0, fresh.producerVersion());
    assertArrayEquals(bytes("{}"), fresh.state());
    store.commit();
    store.close();
    store = MvMessageStore.open(dir, 8, SyncMode.ALWAYS, Duration.ofMillis(200));
    assertEquals(fresh.id(), store.open("a").id());
    assertArrayEquals(bytes("fresh"), store.read(fresh.id(), 1, 10, Long.MAX_VALUE).get(0).payload());
  }

  @Test
  void producerVersionAndLastTimestampAreCommittedWithTheRecord() {
    store.open("a");
    store.setProducerVersion("a", 42);
    store.append("a", 1, 5000, bytes("x"));
    store.commit();
    store.close();
    store = MvMessageStore.open(dir, 8, SyncMode.ALWAYS, Duration.ofMillis(200));
    SubjectRecord record = store.open("a");
    assertEquals(42, record.producerVersion());
    assertEquals(5000, record.lastTimestampMs());
  }

  @Test
  void recordsOfFormatVersionOneStillDecode() {
    ByteBuffer v1 = ByteBuffer.allocate(1 + 5 * Long.BYTES + Integer.BYTES + 2);
    v1.put((byte) 1).putLong(9).putLong(3).putLong(5).putLong(3).putLong(30).putInt(2).put(bytes("{}"));
    SubjectRecord record = SubjectRecord.decode(v1.array());
    assertEquals(9, record.id());
    assertEquals(5, record.lastSequence());
    assertEquals(0, record.producerVersion());
    assertEquals(0, record.lastTimestampMs());
    assertArrayEquals(bytes("{}"), record.state());
  }

  @Test
  void firstSequenceAtOrAfterFindsTheFirstMessageThatRecentWithGapsAndEqualTimes() {
    long id = store.open("t").id();
    long neighbour = store.open("u").id();
    store.append("u", 1, 1, bytes("u"));
    for (int i = 1; i <= 1000; i++) {
      store.append("t", i, 1000 + (i / 3) * 10, bytes("m" + i));
    }
    store.deleteUpTo("t", 100);
    assertEquals(101, store.firstSequenceAtOrAfter(id, 0));
    for (long probe = 1330; probe <= 4340; probe += 7) {
      long expected = 0;
      for (int i = 101; i <= 1000; i++) {
        if (1000 + (i / 3) * 10 >= probe) {
          expected = i;
          break;
        }
      }
      assertEquals(expected, store.firstSequenceAtOrAfter(id, probe), "publish time " + probe);
    }
    assertEquals(0, store.firstSequenceAtOrAfter(id, 1_000_000));
    assertEquals(0, store.firstSequenceAtOrAfter(neighbour + 1, 0), "no messages at all");
  }

  @Test
  void deleteUpToKeepsTheLastSequence() {
    long id = store.open("a").id();
    for (int i = 1; i <= 4; i++) {
      store.append("a", i, i, bytes("m" + i));
    }
    SubjectRecord afterDelete = store.deleteUpTo("a", 2);
    assertEquals(3, afterDelete.firstSequence());
    assertEquals(4, afterDelete.lastSequence());
    assertEquals(2, afterDelete.messages());
    assertEquals(3, store.read(id, 1, 10, Long.MAX_VALUE).get(0).sequence());
    SubjectRecord all = store.deleteUpTo("a", 99);
    assertEquals(0, all.messages());
    assertEquals(4, all.lastSequence());
    assertEquals(5, all.firstSequence());
    store.append("a", 5, 5, bytes("m5"));
    assertEquals(5, store.read(id, 1, 10, Long.MAX_VALUE).get(0).sequence());
  }

  @Test
  void committedWritesSurviveReopen() {
    long id = store.open("a").id();
    store.append("a", 1, 1, bytes("one"));
    store.putState("a", bytes("{\"k\":1}"));
    store.commit();
    store.close();
    store = MvMessageStore.open(dir, 8, SyncMode.ALWAYS, Duration.ofMillis(200));
    SubjectRecord record = store.open("a");
    assertEquals(id, record.id());
    assertEquals(1, record.lastSequence());
    assertArrayEquals(bytes("{\"k\":1}"), record.state());
    assertEquals(1, store.read(id, 1, 10, Long.MAX_VALUE).size());
    assertEquals(id + 1, store.open("b").id(), "subject ids are never reused");
  }

  @Test
  void rollbackKeepsSubjectsCreatedMeanwhileAndNeverReusesTheirIds() {
    store.open("a");
    store.commit();
    store.append("a", 1, 1, bytes("dropped"));
    long created = store.open("b").id();
    store.rollback();
    assertEquals(0, store.record("a").lastSequence());
    assertEquals(created, store.record("b").id());
    store.append("b", 1, 1, bytes("b works"));
    assertEquals(created + 1, store.open("c").id());
  }

  @Test
  void compactionAfterDeletesKeepsWhatIsRetained() {
    long id = store.open("big").id();
    for (int i = 1; i <= 20_000; i++) {
      store.append("big", i, i, bytes("payload-" + i + "-" + "x".repeat(100)));
      if (i % 1000 == 0) {
        store.commit();
      }
    }
    store.deleteUpTo("big", 19_000);
    store.commit();
    store.compact();
    store.close();
    store = MvMessageStore.open(dir, 8, SyncMode.ALWAYS, Duration.ofMillis(200));
    List<StoredMessage> retained = store.read(id, 1, 5_000, Long.MAX_VALUE);
    assertEquals(1_000, retained.size());
    assertEquals(19_001, retained.get(0).sequence());
    assertArrayEquals(bytes("payload-20000-" + "x".repeat(100)), retained.get(999).payload());
    assertEquals(19_001, store.open("big").firstSequence());
  }

  @Test
  void rollbackDropsWritesSinceTheLastCommit() {
    long id = store.open("a").id();
    store.append("a", 1, 1, bytes("kept"));
    store.commit();
    store.append("a", 2, 2, bytes("dropped"));
    store.rollback();
    assertEquals(1, store.record("a").lastSequence());
    assertEquals(1, store.read(id, 1, 10, Long.MAX_VALUE).size());
    store.append("a", 2, 2, bytes("again"));
    assertArrayEquals(bytes("again"), store.read(id, 2, 1, Long.MAX_VALUE).get(0).payload());
  }
}
