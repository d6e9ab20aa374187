package io.dstream.broker.store;

import org.h2.mvstore.MVStore;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * A data dir written by the broker before the append-ordered log (layout 1, main at 89da18b) opens
 * with every byte intact. The resources {@code store/layout1/dstream.mv.db.gz} and
 * {@code expected.txt.gz} were made by {@code store/layout1/GenerateLayout1.java} with that code:
 * subjects whose messages interleave across commits, state, a producer version, Durable Streams
 * attributes, a deleted range, an evicted range, a fully deleted subject, a destroyed one and a
 * 100 KB message; {@code expected.txt} is what the old code read back from the file.
 */
class LegacyLayoutTest {

  private record Expected(List<String[]> records, List<String[]> messages) {
  }

  private static Path unpack(String resource, Path dir) throws IOException {
    Path target = dir.resolve(resource.replace(".gz", ""));
    try (InputStream in = new GZIPInputStream(LegacyLayoutTest.class.getResourceAsStream("/store/layout1/" + resource))) {
      Files.copy(in, target);
    }
    return target;
  }

  private static Expected expected(Path file) throws IOException {
    List<String[]> records = new ArrayList<>();
    List<String[]> messages = new ArrayList<>();
    try (BufferedReader reader = new BufferedReader(new InputStreamReader(Files.newInputStream(file),
        StandardCharsets.UTF_8))) {
      for (String line = reader.readLine(); line != null; line = reader.readLine()) {
        String[] fields = line.split(" ", -1);
        (fields[0].equals("record") ? records : messages).add(fields);
      }
    }
    return new Expected(records, messages);
  }

  @Test
  void aLayoutOneDataDirOpensWithEveryByteIntactAndKeepsWorking() throws Exception {
    Path dir = Files.createTempDirectory("dstream-layout1");
    unpack("dstream.mv.db.gz", dir);
    Expected expected = expected(unpack("expected.txt.gz", dir));
    MessageStore store = MvMessageStore.open(dir, 8, SyncPolicy.always());
    try {
      assertEverythingIntact(store, expected);
    } finally {
      store.close();
    }
    store = MvMessageStore.open(dir, 8, SyncPolicy.always());
    try {
      assertEverythingIntact(store, expected);
      assertNull(store.find("destroyed"), "the destroyed subject stays destroyed");
      assertEquals(8, store.open("new").id(), "ids continue after the highest one ever given (7)");
      SubjectRecord orders = store.find("orders.eu");
      SubjectRecord next = store.apply(List.of(new SubjectWrites("orders.eu",
          List.of(new StoreWrite.Append(301, orders.lastTimestampMs(), "{\"after\":true}".getBytes(StandardCharsets.UTF_8)))))).get(0);
      store.commit();
      assertEquals(301, next.lastSequence());
      List<StoredMessage> tail = store.read(orders.id(), 300, 10, Long.MAX_VALUE);
      assertEquals(List.of(300L, 301L), tail.stream().map(StoredMessage::sequence).toList());
    } finally {
      store.close();
    }
  }

  /**
   * A broker killed during the migration leaves the old map intact beside a partly filled log (the
   * migration commits every 50,000 messages): the next start clears the log and copies again.
   */
  @Test
  void aMigrationInterruptedByACrashStartsOverAtTheNextStart() throws Exception {
    Path dir = Files.createTempDirectory("dstream-layout1");
    Path file = unpack("dstream.mv.db.gz", dir);
    Expected expected = expected(unpack("expected.txt.gz", dir));
    try (MVStore raw = MVStore.open(file.toString())) {
      MessageLog partial = MessageLog.open(raw, raw.openMap("meta"));
      partial.appendIndexed(new LogEntry(1, 1, 0, "copied before the crash".getBytes(StandardCharsets.UTF_8)));
      partial.appendIndexed(new LogEntry(99, 1, 0, "a half-copied subject".getBytes(StandardCharsets.UTF_8)));
      raw.commit();
    }
    MessageStore store = MvMessageStore.open(dir, 8, SyncPolicy.always());
    try {
      assertEverythingIntact(store, expected);
      assertEquals(0, store.read(99, 1, 10, Long.MAX_VALUE).size(), "nothing of the first attempt is left");
    } finally {
      store.close();
    }
  }

  private static void assertEverythingIntact(MessageStore store, Expected expected) {
    Base64.Decoder base64 = Base64.getDecoder();
    List<Map.Entry<String, SubjectRecord>> subjects = store.subjects(null, 100);
    assertEquals(expected.records().size(), subjects.size());
    for (int i = 0; i < subjects.size(); i++) {
      String[] fields = expected.records().get(i);
      SubjectRecord record = subjects.get(i).getValue();
      String name = fields[1];
      assertEquals(name, subjects.get(i).getKey());
      assertEquals(Long.parseLong(fields[2]), record.id(), name);
      assertEquals(Long.parseLong(fields[3]), record.firstSequence(), name);
      assertEquals(Long.parseLong(fields[4]), record.lastSequence(), name);
      assertEquals(Long.parseLong(fields[5]), record.messages(), name);
      assertEquals(Long.parseLong(fields[6]), record.bytes(), name);
      assertEquals(Long.parseLong(fields[7]), SubjectRecord.longValue(record.view(SubjectRecord.RECORDS_VIEW)), name);
      assertEquals(Long.parseLong(fields[8]), record.lastTimestampMs(), name);
      assertArrayEquals(base64.decode(fields[9]), record.state(), name);
      assertArrayEquals(base64.decode(fields[10]), record.view(SubjectRecord.DURABLE_STREAMS_VIEW), name);
    }
    List<String[]> read = new ArrayList<>();
    for (Map.Entry<String, SubjectRecord> subject : subjects) {
      long id = subject.getValue().id();
      for (StoredMessage message : store.read(id, 0, Integer.MAX_VALUE, Long.MAX_VALUE)) {
        read.add(new String[] {"message", Long.toString(id), Long.toString(message.sequence()),
            Long.toString(message.timestampMs()), Base64.getEncoder().encodeToString(message.payload())});
      }
    }
    assertEquals(expected.messages().size(), read.size(), "messages read back");
    for (int i = 0; i < read.size(); i++) {
      assertArrayEquals(expected.messages().get(i), read.get(i), "message " + i);
    }
    SubjectRecord orders = store.find("orders.eu");
    assertEquals(51, store.firstSequenceAtOrAfter(orders.id(), 0), "the deleted range stays deleted");
  }
}
