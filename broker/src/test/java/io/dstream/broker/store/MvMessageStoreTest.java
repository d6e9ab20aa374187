package io.dstream.broker.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The {@link MessageStore} contract on a real H2 file. */
class MvMessageStoreTest {

  private Path dir;
  private MessageStore store;

  @BeforeEach
  void open() throws Exception {
    dir = Files.createTempDirectory("dstream-store");
    store = MvMessageStore.open(dir, 8);
  }

  @AfterEach
  void close() {
    store.close();
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
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
    assertThrows(StoreException.class, () -> store.append("never-opened", 1, 1, bytes("x")));
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
    store.commit(SyncMode.ALWAYS);
    store.close();
    store = MvMessageStore.open(dir, 8);
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
    store.commit(SyncMode.OS);
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
        store.commit(SyncMode.OS);
      }
    }
    store.deleteUpTo("big", 19_000);
    store.commit(SyncMode.OS);
    store.compact();
    store.close();
    store = MvMessageStore.open(dir, 8);
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
    store.commit(SyncMode.OS);
    store.append("a", 2, 2, bytes("dropped"));
    store.rollback();
    assertEquals(1, store.record("a").lastSequence());
    assertEquals(1, store.read(id, 1, 10, Long.MAX_VALUE).size());
    store.append("a", 2, 2, bytes("again"));
    assertArrayEquals(bytes("again"), store.read(id, 2, 1, Long.MAX_VALUE).get(0).payload());
  }
}
