import io.dstream.broker.store.MvMessageStore;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.SyncMode;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.Map;

/**
 * Writes the layout-1 data dir of LegacyLayoutTest with the store code of main at 89da18b (before the
 * append-ordered log), then reads everything back through that same code into expected.txt.
 *
 *   git worktree add /tmp/oldmain 89da18b && (cd /tmp/oldmain && mvn -B -q -o -pl broker -am package -DskipTests)
 *   java -cp /tmp/oldmain/broker/target/broker.jar GenerateLayout1.java /tmp/layout1
 *   gzip -9 -k /tmp/layout1/dstream.mv.db /tmp/layout1/expected.txt  (the two .gz files are the test resources)
 */
public class GenerateLayout1 {

  static byte[] payload(String subject, long sequence, int size) {
    String head = "{\"subject\":\"" + subject + "\",\"sequence\":" + sequence + ",\"data\":\"";
    StringBuilder json = new StringBuilder(head);
    while (json.length() < size - 2) {
      json.append((char) ('a' + (sequence + json.length()) % 26));
    }
    return json.append("\"}").toString().getBytes(StandardCharsets.UTF_8);
  }

  public static void main(String[] args) throws Exception {
    Path dir = Path.of(args[0]);
    Files.createDirectories(dir);
    MvMessageStore store = MvMessageStore.open(dir, 8, SyncMode.ALWAYS, Duration.ofMillis(200));
    List<String> subjects = List.of("orders.eu", "orders.us", "ds.logs~2Fapp", "evicted", "empty", "destroyed", "big");
    subjects.forEach(store::open);
    long time = 1_763_800_000_000L;
    // Commits touching several subjects each, so their messages interleave in time.
    for (int round = 0; round < 30; round++) {
      for (int i = 1; i <= 10; i++) {
        long sequence = round * 10L + i;
        store.append("orders.eu", sequence, time + sequence * 7, payload("orders.eu", sequence, 120));
        if (sequence <= 120) {
          store.append("orders.us", sequence, time + sequence * 11, payload("orders.us", sequence, 90));
        }
        if (sequence <= 100) {
          store.append("evicted", sequence, time + sequence * 5, payload("evicted", sequence, 60));
        }
      }
      if (round < 4) {
        store.append("ds.logs~2Fapp", round + 1, time + round, payload("ds.logs~2Fapp", round + 1, 300));
      }
      store.commit();
    }
    store.putState("orders.eu", "{\"owner\":\"ops\",\"limit\":5}".getBytes(StandardCharsets.UTF_8));
    store.setProducerVersion("orders.eu", 7);
    store.deleteUpTo("orders.eu", 50);
    store.putAttributes("ds.logs~2Fapp",
        "{\"contentType\":\"application/json\",\"ttl\":3600}".getBytes(StandardCharsets.UTF_8));
    store.evict("evicted", new StoreWrite.Evict(60, 0, 0, Long.MAX_VALUE), 10_000);
    store.deleteUpTo("orders.us", 200);
    for (int i = 1; i <= 5; i++) {
      store.append("destroyed", i, time + i, payload("destroyed", i, 50));
    }
    store.commit();
    store.destroy("destroyed");
    store.append("big", 1, time, payload("big", 1, 100_000));
    store.commit();
    store.close();

    store = MvMessageStore.open(dir, 8, SyncMode.ALWAYS, Duration.ofMillis(200));
    Base64.Encoder base64 = Base64.getEncoder();
    try (PrintWriter out = new PrintWriter(Files.newBufferedWriter(dir.resolve("expected.txt")))) {
      for (Map.Entry<String, SubjectRecord> entry : store.subjects(null, 100)) {
        SubjectRecord r = entry.getValue();
        out.println("record " + entry.getKey() + " " + r.id() + " " + r.firstSequence() + " " + r.lastSequence() + " "
            + r.messages() + " " + r.bytes() + " " + r.producerVersion() + " " + r.lastTimestampMs() + " "
            + base64.encodeToString(r.state()) + " " + base64.encodeToString(r.attributes()) + " .");
        for (StoredMessage m : store.read(r.id(), 0, Integer.MAX_VALUE, Long.MAX_VALUE)) {
          out.println("message " + r.id() + " " + m.sequence() + " " + m.timestampMs() + " "
              + base64.encodeToString(m.payload()));
        }
      }
    }
    store.close();
  }
}
