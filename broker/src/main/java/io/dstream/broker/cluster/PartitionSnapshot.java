package io.dstream.broker.cluster;

import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.SubjectWrites;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A partition's state at one applied Raft index, as a file: what a replica that lost its disk, or
 * fell behind the leader's purged log, installs instead of the entries it missed. It holds every
 * subject of the partition with its record (sequences, state, views) and the messages the store
 * holds locally; messages already checkpointed and evicted stay in the bucket, which every node
 * shares, and the restored record points there as after a restore from a checkpoint.
 *
 * <p>Written and installed a page at a time, so neither needs memory in proportion to the partition:
 * {@link #PAGE_MESSAGES} messages or {@link #PAGE_BYTES} bytes per store read and per install commit.
 *
 * <p>Format (big-endian): per subject {@code byte 1 | UTF subject | long first | long last |
 * long lastTimestamp | bytes state | long revision | int views | views x (UTF name | bytes data)},
 * then its local messages, each {@code byte 1 | long sequence | long timestamp | bytes payload}, then
 * {@code byte 0}; after the last subject {@code byte 0}. Bytes are {@code int length | bytes}.
 */
final class PartitionSnapshot {

  static final int PAGE_MESSAGES = 1024;
  static final long PAGE_BYTES = 4L * 1024 * 1024;
  private static final int SUBJECTS_PER_PAGE = 1000;

  private PartitionSnapshot() {
  }

  /** Writes the partition's committed state to {@code file}. */
  static void write(MessageStore store, Placement placement, int partition, Path file) throws IOException {
    try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(file), 1 << 16))) {
      forEachPage(store, placement, partition, page -> {
        for (Map.Entry<String, SubjectRecord> subject : page) {
          writeSubject(store, out, subject.getKey(), subject.getValue());
        }
      });
      out.writeByte(0);
    }
  }

  private static void writeSubject(MessageStore store, DataOutputStream out, String subject, SubjectRecord record)
      throws IOException {
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
    long from = record.firstSequence();
    while (from <= record.lastSequence()) {
      List<StoredMessage> page = store.read(record.id(), from, PAGE_MESSAGES, PAGE_BYTES);
      if (page.isEmpty()) {
        break;
      }
      for (StoredMessage message : page) {
        out.writeByte(1);
        out.writeLong(message.sequence());
        out.writeLong(message.timestampMs());
        Entry.bytes(out, message.payload());
      }
      from = page.get(page.size() - 1).sequence() + 1;
    }
    out.writeByte(0);
  }

  /**
   * Replaces the partition's subjects in the store by the snapshot's, then records its position; a
   * crash before the last commit leaves the old position, so the next start installs it again.
   */
  static void install(ReplicaWriter writer, MessageStore store, Placement placement, int partition, Path file,
                      long term, long index) throws IOException {
    destroyAll(writer, store, placement, partition);
    try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(file), 1 << 16))) {
      while (in.readByte() == 1) {
        installSubject(writer, in);
      }
    }
    await(writer.write(List.of(ReplicaWriter.markerWrite(partition, term, index))));
  }

  private static void destroyAll(ReplicaWriter writer, MessageStore store, Placement placement, int partition)
      throws IOException {
    forEachPage(store, placement, partition, page -> {
      List<SubjectWrites> destroys = new ArrayList<>();
      for (Map.Entry<String, SubjectRecord> subject : page) {
        destroys.add(new SubjectWrites(subject.getKey(), List.of(new StoreWrite.Destroy())));
      }
      if (!destroys.isEmpty()) {
        await(writer.write(destroys));
      }
    });
  }

  /** What is done with one page of a partition's subjects. */
  @FunctionalInterface
  private interface PageAction {
    void accept(List<Map.Entry<String, SubjectRecord>> page) throws IOException;
  }

  /**
   * Hands {@code action} the partition's committed subjects in name order, one listing page
   * ({@link #SUBJECTS_PER_PAGE} subjects read) at a time, without those of other partitions and the
   * replicas' markers; a page may be empty.
   */
  private static void forEachPage(MessageStore store, Placement placement, int partition, PageAction action)
      throws IOException {
    String after = null;
    while (true) {
      List<Map.Entry<String, SubjectRecord>> listed = store.subjects(after, SUBJECTS_PER_PAGE);
      List<Map.Entry<String, SubjectRecord>> ours = new ArrayList<>();
      for (Map.Entry<String, SubjectRecord> subject : listed) {
        if (!ReplicaWriter.isMarker(subject.getKey()) && placement.partitionOf(subject.getKey()) == partition) {
          ours.add(subject);
        }
      }
      action.accept(ours);
      if (listed.size() < SUBJECTS_PER_PAGE) {
        return;
      }
      after = listed.get(listed.size() - 1).getKey();
    }
  }

  private static void installSubject(ReplicaWriter writer, DataInputStream in) throws IOException {
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
    List<StoreWrite> page = new ArrayList<>();
    long pageBytes = 0;
    boolean restored = false;
    while (in.readByte() == 1) {
      StoredMessage message = new StoredMessage(in.readLong(), in.readLong(), Entry.bytes(in));
      if (!restored) {
        // Sequences before the first local message are in the bucket, as after a restore from a checkpoint.
        page.add(new StoreWrite.Restore(first, message.sequence() - 1, 0, state, revision, views));
        restored = true;
      }
      page.add(new StoreWrite.Append(message.sequence(), message.timestampMs(), message.payload()));
      pageBytes += message.payload().length;
      if (page.size() >= PAGE_MESSAGES || pageBytes >= PAGE_BYTES) {
        await(writer.write(List.of(new SubjectWrites(subject, page))));
        page = new ArrayList<>();
        pageBytes = 0;
      }
    }
    if (!restored) {
      page.add(new StoreWrite.Restore(first, last, lastTimestamp, state, revision, views));
    }
    if (!page.isEmpty()) {
      await(writer.write(List.of(new SubjectWrites(subject, page))));
    }
  }

  private static void await(java.util.concurrent.CompletableFuture<Void> done) throws IOException {
    try {
      done.join();
    } catch (java.util.concurrent.CompletionException e) {
      throw new IOException("installing a snapshot failed: " + e.getCause().getMessage(), e.getCause());
    }
  }
}
