package io.dstream.broker.store;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The {@link MessageStore} contract, run against every implementation (as nats-server runs every
 * store test on every backend): each subclass says how to open its store.
 */
abstract class MessageStoreContract {

  protected MessageStore store;

  /** A new, empty store. */
  protected abstract MessageStore create() throws Exception;

  @BeforeEach
  void openStore() throws Exception {
    store = create();
  }

  @AfterEach
  void closeStore() {
    store.close();
  }

  static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static StoreWrite.Append append(long sequence, long timestampMs, String payload) {
    return new StoreWrite.Append(sequence, timestampMs, bytes(payload));
  }

  /** Applies one subject's writes as a group of its own; returns its record after them. */
  SubjectRecord apply(String subject, StoreWrite... writes) {
    return store.apply(List.of(new SubjectWrites(subject, List.of(writes)))).get(0);
  }

  SubjectRecord commit(String subject, StoreWrite... writes) {
    SubjectRecord record = apply(subject, writes);
    store.commit();
    store.sync();
    return record;
  }

  @Test
  void aNewSubjectIsEmptyWithDefaultStateAndKeepsItsId() {
    SubjectRecord record = store.open("a");
    assertEquals(0, record.lastSequence());
    assertEquals(1, record.firstSequence());
    assertEquals(0, record.messages());
    assertArrayEquals(bytes("{}"), record.state());
    assertTrue(record.views().isEmpty());
    assertEquals(record.id(), store.open("a").id());
    assertTrue(store.open("b").id() > record.id());
    assertNull(store.find("never-opened"));
  }

  @Test
  void oneGroupOfManySubjectsIsReadBackInOrderPerSubject() {
    long a = store.open("a").id();
    long b = store.open("b").id();
    for (int round = 0; round < 3; round++) {
      List<SubjectWrites> group = new ArrayList<>();
      for (String subject : List.of("a", "b")) {
        List<StoreWrite> writes = new ArrayList<>();
        for (int i = 1; i <= 2; i++) {
          int sequence = round * 2 + i;
          writes.add(append(sequence, (subject.equals("a") ? 1000 : 2000) + sequence, subject + sequence));
        }
        group.add(new SubjectWrites(subject, writes));
      }
      List<SubjectRecord> records = store.apply(group);
      assertEquals(round * 2 + 2, records.get(0).lastSequence());
      assertEquals(records.get(1).id(), b);
      store.commit();
    }
    List<StoredMessage> read = store.read(a, 2, 10, Long.MAX_VALUE);
    assertEquals(5, read.size());
    for (int i = 0; i < read.size(); i++) {
      assertEquals(2 + i, read.get(i).sequence());
      assertEquals(1002 + i, read.get(i).timestampMs());
      assertArrayEquals(bytes("a" + (2 + i)), read.get(i).payload());
    }
    assertEquals(3, store.read(b, 4, 10, Long.MAX_VALUE).size());
    assertEquals(3, store.read(a, 1, 3, Long.MAX_VALUE).size());
    assertEquals(1, store.read(a, 1, 10, 1).size(), "the byte bound still returns one message");
    assertEquals(2, store.read(a, 1, 10, 3).size(), "stops once the byte bound is reached");
    assertEquals(0, store.read(a, 7, 10, Long.MAX_VALUE).size());
    SubjectRecord record = store.find("a");
    assertEquals(6, record.lastSequence());
    assertEquals(6, record.messages());
    assertEquals(12, record.bytes());
    assertEquals(1006, record.lastTimestampMs());
  }

  @Test
  void appliedRecordsAreReadableUntilARollbackTakesThemBack() {
    store.open("a");
    apply("a", append(1, 1, "x"), new StoreWrite.PutState(bytes("{\"k\":1}"), 1));
    assertEquals(1, store.find("a").lastSequence(), "find sees the applied record");
    store.rollback();
    assertEquals(0, store.find("a").lastSequence(), "the rollback took it back");
    apply("a", append(1, 1, "x"), new StoreWrite.PutState(bytes("{\"k\":1}"), 1));
    store.commit();
    store.rollback();
    assertEquals(1, store.find("a").lastSequence(), "a rollback keeps what was committed");
    assertArrayEquals(bytes("{\"k\":1}"), store.find("a").state());
  }

  @Test
  void gapsAndRepeatsAreRefused() {
    store.open("a");
    commit("a", append(1, 1, "x"));
    assertThrows(StoreException.class, () -> apply("a", append(1, 1, "again")));
    store.rollback();
    assertThrows(StoreException.class, () -> apply("a", append(3, 1, "gap")));
    store.rollback();
    assertThrows(StoreException.class, () -> apply("never-opened", append(2, 1, "gap on a new subject")));
    store.rollback();
    assertEquals(1, store.find("a").lastSequence());
  }

  @Test
  void aRefusedWriteFailsTheGroupAndTheRollbackUndoesEverySubjectOfIt() {
    long a = store.open("a").id();
    store.open("b");
    commit("b", append(1, 1, "b1"));
    List<SubjectWrites> group = List.of(new SubjectWrites("a", List.of(append(1, 1, "a1"))),
        new SubjectWrites("b", List.of(append(3, 2, "gap"))));
    assertThrows(StoreException.class, () -> store.apply(group));
    store.rollback();
    assertEquals(0, store.read(a, 1, 10, Long.MAX_VALUE).size(), "the other subject's write went too");
    assertEquals(0, store.find("a").lastSequence());
    assertEquals(1, commit("a", append(1, 1, "a1 again")).lastSequence());
    assertArrayEquals(bytes("a1 again"), store.read(a, 1, 10, Long.MAX_VALUE).get(0).payload());
  }

  @Test
  void viewsAreOpaquePerViewAndCommittedWithTheRecord() {
    store.open("a");
    commit("a", new StoreWrite.PutView("records", SubjectRecord.longView(42)), append(1, 5000, "x"),
        new StoreWrite.PutView("ds", bytes("{\"ct\":\"text/plain\"}")));
    SubjectRecord record = store.find("a");
    assertEquals(42, SubjectRecord.longValue(record.view("records")));
    assertArrayEquals(bytes("{\"ct\":\"text/plain\"}"), record.view("ds"));
    assertEquals(5000, record.lastTimestampMs());
    commit("a", new StoreWrite.PutView("ds", new byte[0]));
    assertEquals(42, SubjectRecord.longValue(store.find("a").view("records")), "other views stay");
    assertEquals(0, store.find("a").view("ds").length, "empty data removes the view");
  }

  @Test
  void destroyRemovesMessagesStateAndRecordAndTheNextWriteStartsANewSubject() {
    long id = store.open("a").id();
    long other = store.open("b").id();
    commit("a", append(1, 1, "m1"), append(2, 2, "m2"), append(3, 3, "m3"), new StoreWrite.PutState(bytes("{\"k\":1}"), 1),
        new StoreWrite.PutView("records", SubjectRecord.longView(7)));
    commit("b", append(1, 1, "b1"));
    SubjectRecord destroyed = commit("a", new StoreWrite.Destroy());
    assertEquals(0, destroyed.id(), "a destroyed subject has no record");
    assertNull(store.find("a"));
    assertEquals(0, store.read(id, 1, 10, Long.MAX_VALUE).size());
    assertEquals(1, store.read(other, 1, 10, Long.MAX_VALUE).size(), "other subjects keep their messages");
    SubjectRecord fresh = commit("a", append(1, 10, "fresh"));
    assertTrue(fresh.id() > other, "a new id, never a reused one");
    assertEquals(1, fresh.lastSequence());
    assertTrue(fresh.views().isEmpty());
    assertArrayEquals(bytes("{}"), fresh.state());
    assertArrayEquals(bytes("fresh"), store.read(fresh.id(), 1, 10, Long.MAX_VALUE).get(0).payload());
  }

  @Test
  void destroyAndWritesAfterItInOneBatchStartTheNewSubject() {
    store.open("a");
    SubjectRecord record = commit("a", append(1, 1, "old"), new StoreWrite.Destroy(), append(1, 2, "new"));
    assertEquals(1, record.lastSequence());
    assertArrayEquals(bytes("new"), store.read(record.id(), 1, 10, Long.MAX_VALUE).get(0).payload());
  }

  @Test
  void firstSequenceAtOrAfterFindsTheFirstRecentMessageWithDeletionsAndEqualTimes() {
    long id = store.open("t").id();
    long neighbour = store.open("u").id();
    for (int i = 1; i <= 1000; i += 100) {
      List<StoreWrite> writes = new ArrayList<>();
      for (int j = i; j < i + 100; j++) {
        writes.add(append(j, 1000 + (j / 3) * 10, "m" + j));
      }
      store.apply(List.of(new SubjectWrites("t", writes), new SubjectWrites("u", List.of(append(i / 100 + 1, 1, "u")))));
    }
    apply("t", new StoreWrite.DeleteUpTo(100));
    store.commit();
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
    commit("a", append(1, 1, "m1"), append(2, 2, "m2"));
    commit("a", append(3, 3, "m3"), append(4, 4, "m4"));
    SubjectRecord afterDelete = commit("a", new StoreWrite.DeleteUpTo(3));
    assertEquals(4, afterDelete.firstSequence());
    assertEquals(4, afterDelete.lastSequence());
    assertEquals(1, afterDelete.messages());
    assertEquals(2, afterDelete.bytes());
    assertEquals(4, store.read(id, 1, 10, Long.MAX_VALUE).get(0).sequence());
    SubjectRecord all = commit("a", new StoreWrite.DeleteUpTo(99));
    assertEquals(0, all.messages());
    assertEquals(0, all.bytes());
    assertEquals(4, all.lastSequence());
    assertEquals(5, all.firstSequence());
    commit("a", append(5, 5, "m5"));
    assertEquals(5, store.read(id, 1, 10, Long.MAX_VALUE).get(0).sequence());
  }

  @Test
  void evictRemovesOldLocalMessagesButKeepsTheSequences() {
    long id = store.open("a").id();
    List<StoreWrite> writes = new ArrayList<>();
    for (int i = 1; i <= 10; i++) {
      writes.add(append(i, i * 100, "0123456789"));
    }
    commit("a", writes.toArray(StoreWrite[]::new));
    SubjectRecord evicted = commit("a", new StoreWrite.Evict(8, 4, Long.MAX_VALUE, 0));
    assertEquals(1, evicted.firstSequence(), "evicted messages are still retained (in the archive)");
    assertEquals(10, evicted.messages());
    assertEquals(40, evicted.bytes(), "only the local bytes drop");
    assertEquals(7, store.read(id, 1, 10, Long.MAX_VALUE).get(0).sequence());
    SubjectRecord byTime = commit("a", new StoreWrite.Evict(10, 10, Long.MAX_VALUE, 901));
    assertEquals(10, store.read(id, 1, 10, Long.MAX_VALUE).get(0).sequence(), "older than the minimum time");
    assertEquals(10, byTime.bytes());
  }

  @Test
  void everyStatePutCarriesTheNextRevisionAndADestroyStartsAgainAtZero() {
    store.open("s");
    assertEquals(2, commit("s", new StoreWrite.PutState(bytes("{\"a\":1}"), 1),
        new StoreWrite.PutState(bytes("{\"a\":2}"), 2)).stateRevision());
    assertThrows(StoreException.class, () -> apply("s", new StoreWrite.PutState(bytes("{}"), 2)));
    store.rollback();
    assertEquals(2, store.find("s").stateRevision());
    commit("s", new StoreWrite.Destroy());
    assertEquals(1, commit("s", new StoreWrite.PutState(bytes("{\"b\":1}"), 1)).stateRevision());
  }

  @Test
  void restoreRebuildsAnEmptySubjectAndIsRefusedOnOneWithMessages() {
    store.open("r");
    SubjectRecord restored = commit("r", new StoreWrite.Restore(5, 9, 777, bytes("{\"s\":1}"), 4,
        Map.of("records", SubjectRecord.longView(3))));
    assertEquals(5, restored.firstSequence());
    assertEquals(9, restored.lastSequence());
    assertEquals(5, restored.messages());
    assertEquals(0, restored.bytes());
    assertEquals(777, restored.lastTimestampMs());
    assertEquals(4, restored.stateRevision());
    assertEquals(3, SubjectRecord.longValue(store.find("r").view("records")));
    commit("r", append(10, 800, "after the restore"));
    assertEquals(10, store.read(restored.id(), 1, 10, Long.MAX_VALUE).get(0).sequence());
    assertThrows(StoreException.class, () -> apply("r", new StoreWrite.Restore(1, 2, 0, bytes("{}"), 0, Map.of())));
    store.rollback();
  }

  @Test
  void rollbackDropsWritesSinceTheLastCommit() {
    long id = store.open("a").id();
    commit("a", append(1, 1, "kept"));
    apply("a", append(2, 2, "dropped"), new StoreWrite.DeleteUpTo(1), new StoreWrite.PutState(bytes("{\"x\":1}"), 1));
    store.rollback();
    assertEquals(1, store.find("a").lastSequence());
    assertEquals(List.of(1L), store.read(id, 1, 10, Long.MAX_VALUE).stream().map(StoredMessage::sequence).toList());
    SubjectRecord again = commit("a", append(2, 2, "again"));
    assertEquals(2, again.lastSequence());
    assertArrayEquals(bytes("{}"), again.state());
    assertArrayEquals(bytes("again"), store.read(id, 2, 1, Long.MAX_VALUE).get(0).payload());
  }

  @Test
  void rollbackKeepsSubjectsCreatedMeanwhileAndNeverReusesTheirIds() {
    store.open("a");
    apply("a", append(1, 1, "dropped"));
    long created = store.open("b").id();
    store.rollback();
    assertEquals(0, store.find("a").lastSequence());
    assertEquals(created, store.find("b").id());
    commit("b", append(1, 1, "b works"));
    assertTrue(store.open("c").id() > created);
  }

  @Test
  void sizeCountsSubjectsAndLocalMessages() {
    store.open("a");
    store.open("b");
    commit("a", append(1, 1, "1"), append(2, 2, "2"), append(3, 3, "3"));
    commit("b", append(1, 1, "1"));
    commit("a", new StoreWrite.DeleteUpTo(1));
    StoreSize size = store.size();
    assertEquals(2, size.subjects());
    assertEquals(3, size.messages());
    commit("b", new StoreWrite.Destroy());
    assertEquals(1, store.size().subjects());
    assertEquals(2, store.size().messages());
  }

  @Test
  void subjectsArePagedInNameOrder() {
    for (String subject : List.of("c", "a", "b", "d")) {
      store.open(subject);
    }
    List<Map.Entry<String, SubjectRecord>> first = store.subjects(null, 3);
    assertEquals(List.of("a", "b", "c"), first.stream().map(Map.Entry::getKey).toList());
    assertEquals(List.of("d"), store.subjects("c", 3).stream().map(Map.Entry::getKey).toList());
  }
}
