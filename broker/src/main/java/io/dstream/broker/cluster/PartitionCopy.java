package io.dstream.broker.cluster;

import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.SubjectWrites;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A partition's committed state copied from one replica to another: what a replica installs when
 * the leader no longer has the log entries it lacks (its disk was wiped, or it fell behind the
 * purged log). This replaces sending a snapshot file: a Raft snapshot here is only the store's
 * forced position ({@link PartitionMachine#takeSnapshot}), and the data travels only when a replica
 * needs it, read outside any apply path.
 *
 * <p>Exactness: the source takes a <em>cut</em> on its replica writer thread, between two commits
 * ({@link #cut}): the partition's applied position {@code (term, index)} and every subject record
 * of the partition, written to a manifest file. So the records are exactly the state after entry
 * {@code index}; the installing replica then applies the log from {@code index + 1} with the same
 * rules as everyone, and reaches the same state. Messages are read from the source's store later,
 * page by page: a message at or below a record's last sequence never changes, it can only be
 * trimmed or evicted meanwhile, by an entry after {@code index} that the installing replica applies
 * too (an evicted message is in the bucket, where the restored record says to look).
 *
 * <p>The copy is a byte stream, sent in pages ({@link #page}): {@code long term | long index}, then
 * per subject {@code byte 1 | UTF subject | long first | long last | long lastTimestamp | bytes state
 * | long revision | int views | views x (UTF name | bytes data)}, its local messages each
 * {@code byte 1 | long sequence | long timestamp | bytes payload}, then {@code byte 0}; after the
 * last subject {@code byte 0}. Bytes are {@code int length | bytes}. The manifest holds per subject
 * {@code int length | long id | long first | long last | subject header as in the stream}.
 *
 * <p>Memory: a page is about {@code DSTREAM_CLUSTER_COPY_PAGE_BYTES}, plus one message; an
 * installation commits {@link #INSTALL_MESSAGES} messages or four pages' bytes at a time.
 */
final class PartitionCopy {

  /** Messages read from the store, and installed, at a time at most. */
  static final int INSTALL_MESSAGES = 1024;
  /** Pages' worth of bytes installed per commit of the store. */
  private static final int PAGES_PER_INSTALL = 4;
  private static final int SUBJECTS_PER_LISTING = 1000;
  private static final int HEADER_BYTES = 2 * Long.BYTES;

  /** Where a page starts: the manifest entry at {@code offset}, and within it the message sequence {@code from} (0: its header not sent yet). */
  record Position(long offset, long from) {
  }

  /** One page of the copy and where the next one starts (null after the last page). */
  record Page(byte[] data, Position next) {
  }

  private PartitionCopy() {
  }

  /**
   * Writes the partition's cut to {@code manifest}. Must run on the replica writer thread, where no
   * commit runs meanwhile; {@code applied} is the partition's position read there too.
   */
  static void cut(MessageStore store, Placement placement, int partition, ReplicaWriter.Applied applied, Path manifest)
      throws IOException {
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(manifest), 1 << 16))) {
      out.writeLong(applied.term());
      out.writeLong(applied.index());
      forEachListing(store, placement, partition, subjects -> {
        for (Map.Entry<String, SubjectRecord> subject : subjects) {
          SubjectRecord record = subject.getValue();
          byte[] header = header(subject.getKey(), record);
          out.writeInt(3 * Long.BYTES + header.length);
          out.writeLong(record.id());
          out.writeLong(record.firstSequence());
          out.writeLong(record.lastSequence());
          out.write(header);
        }
      });
    }
  }

  /** What is done with the partition's subjects of one listing of the store. */
  @FunctionalInterface
  private interface ListingAction {
    void accept(List<Map.Entry<String, SubjectRecord>> subjects) throws IOException;
  }

  /**
   * Hands {@code action} the partition's subjects in name order, {@link #SUBJECTS_PER_LISTING}
   * subjects of the store listed at a time, without those of other partitions and the replicas'
   * position markers; a listing's share may be empty.
   */
  private static void forEachListing(MessageStore store, Placement placement, int partition, ListingAction action)
      throws IOException {
    String after = null;
    while (true) {
      List<Map.Entry<String, SubjectRecord>> listed = store.subjects(after, SUBJECTS_PER_LISTING);
      List<Map.Entry<String, SubjectRecord>> ours = new ArrayList<>();
      for (Map.Entry<String, SubjectRecord> subject : listed) {
        if (!ReplicaWriter.isMarker(subject.getKey()) && placement.partitionOf(subject.getKey()) == partition) {
          ours.add(subject);
        }
      }
      action.accept(ours);
      if (listed.size() < SUBJECTS_PER_LISTING) {
        return;
      }
      after = listed.get(listed.size() - 1).getKey();
    }
  }

  private static byte[] header(String subject, SubjectRecord record) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(128 + record.state().length);
    DataOutputStream out = new DataOutputStream(bytes);
    out.writeByte(1);
    out.writeUTF(subject);
    out.writeLong(record.firstSequence());
    out.writeLong(record.lastSequence());
    out.writeLong(record.lastTimestampMs());
    Entry.bytes(out, record.state());
    out.writeLong(record.stateRevision());
    out.writeInt(record.views().size());
    for (Map.Entry<String, byte[]> view : record.views().entrySet()) {
      out.writeUTF(view.getKey());
      Entry.bytes(out, view.getValue());
    }
    return bytes.toByteArray();
  }

  /** The page of the copy starting at {@code at}: about {@code pageBytes}, with messages read from {@code store} now. */
  static Page page(MessageStore store, Path manifest, Position at, int pageBytes) throws IOException {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(pageBytes + 4096);
    DataOutputStream out = new DataOutputStream(bytes);
    try (RandomAccessFile file = new RandomAccessFile(manifest.toFile(), "r")) {
      long offset = at.offset();
      long from = at.from();
      if (offset == 0) {
        byte[] header = new byte[HEADER_BYTES];
        file.readFully(header);
        out.write(header);
        offset = HEADER_BYTES;
      }
      while (offset < file.length()) {
        file.seek(offset);
        byte[] entry = new byte[file.readInt()];
        file.readFully(entry);
        DataInputStream fields = new DataInputStream(new ByteArrayInputStream(entry));
        long id = fields.readLong();
        long first = fields.readLong();
        long last = fields.readLong();
        if (from == 0) {
          out.write(entry, 3 * Long.BYTES, entry.length - 3 * Long.BYTES);
          from = first;
        }
        while (from <= last) {
          if (bytes.size() >= pageBytes) {
            return new Page(bytes.toByteArray(), new Position(offset, from));
          }
          List<StoredMessage> messages = store.read(id, from, INSTALL_MESSAGES, pageBytes - bytes.size());
          if (messages.isEmpty()) {
            break;
          }
          for (StoredMessage message : messages) {
            if (message.sequence() > last) {
              break;
            }
            out.writeByte(1);
            out.writeLong(message.sequence());
            out.writeLong(message.timestampMs());
            Entry.bytes(out, message.payload());
          }
          from = messages.get(messages.size() - 1).sequence() + 1;
        }
        out.writeByte(0);
        offset += Integer.BYTES + entry.length;
        from = 0;
        if (bytes.size() >= pageBytes && offset < file.length()) {
          return new Page(bytes.toByteArray(), new Position(offset, 0));
        }
      }
      out.writeByte(0);
      return new Page(bytes.toByteArray(), null);
    }
  }

  /**
   * Replaces the partition's subjects in the store by the copy read from {@code copy}, then records
   * the copy's position, which it returns. First the store records that the partition is being
   * copied, and forces that: a crash before the last commit leaves the partition marked, and the next
   * start rebuilds this replica from its peers (ClusterNode). The copy's pages are of {@code pageBytes}.
   */
  static ReplicaWriter.Applied install(ReplicaWriter writer, MessageStore store, Placement placement, int partition,
                                       InputStream copy, int pageBytes) throws IOException {
    await(writer.forcePosition(partition, ReplicaWriter.Applied.COPYING));
    clear(writer, store, placement, partition);
    DataInputStream in = new DataInputStream(new BufferedInputStream(copy, 1 << 16));
    ReplicaWriter.Applied applied = new ReplicaWriter.Applied(in.readLong(), in.readLong());
    while (in.readByte() == 1) {
      installSubject(writer, in, (long) PAGES_PER_INSTALL * pageBytes);
    }
    await(writer.forcePosition(partition, applied));
    return applied;
  }

  /** Destroys every subject of the partition in the store, a listing per commit. */
  static void clear(ReplicaWriter writer, MessageStore store, Placement placement, int partition) throws IOException {
    forEachListing(store, placement, partition, subjects -> {
      List<SubjectWrites> destroys = new ArrayList<>();
      for (Map.Entry<String, SubjectRecord> subject : subjects) {
        destroys.add(new SubjectWrites(subject.getKey(), List.of(new StoreWrite.Destroy())));
      }
      if (!destroys.isEmpty()) {
        await(writer.write(destroys));
      }
    });
  }

  private static void installSubject(ReplicaWriter writer, DataInputStream in, long installBytes) throws IOException {
    String subject = in.readUTF();
    long first = in.readLong();
    long last = in.readLong();
    long lastTimestamp = in.readLong();
    byte[] state = Entry.bytes(in);
    long revision = in.readLong();
    int viewCount = in.readInt();
    Map<String, byte[]> views = new LinkedHashMap<>();
    for (int i = 0; i < viewCount; i++) {
      views.put(in.readUTF(), Entry.bytes(in));
    }
    List<StoreWrite> batch = new ArrayList<>();
    long batchBytes = 0;
    boolean restored = false;
    while (in.readByte() == 1) {
      StoredMessage message = new StoredMessage(in.readLong(), in.readLong(), Entry.bytes(in));
      if (!restored) {
        // Sequences before the first local message are in the bucket, as after a restore from a checkpoint.
        batch.add(new StoreWrite.Restore(first, message.sequence() - 1, 0, state, revision, views));
        restored = true;
      }
      batch.add(new StoreWrite.Append(message.sequence(), message.timestampMs(), message.payload()));
      batchBytes += message.payload().length;
      if (batch.size() >= INSTALL_MESSAGES || batchBytes >= installBytes) {
        await(writer.write(List.of(new SubjectWrites(subject, batch))));
        batch = new ArrayList<>();
        batchBytes = 0;
      }
    }
    if (!restored) {
      batch.add(new StoreWrite.Restore(first, last, lastTimestamp, state, revision, views));
    }
    if (!batch.isEmpty()) {
      await(writer.write(List.of(new SubjectWrites(subject, batch))));
    }
  }

  private static void await(CompletableFuture<Void> done) throws IOException {
    try {
      done.join();
    } catch (CompletionException e) {
      throw new IOException("installing a partition's copy failed: " + e.getCause().getMessage(), e.getCause());
    }
  }
}
