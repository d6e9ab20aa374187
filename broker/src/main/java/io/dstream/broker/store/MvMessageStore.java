package io.dstream.broker.store;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.h2.mvstore.type.ByteArrayDataType;
import org.h2.mvstore.type.StringDataType;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/**
 * {@link MessageStore} on an H2 MVStore file ({@code dstream.mv.db} in the data dir), used directly
 * rather than through SQL so that commit and fsync are explicit calls (see docs/architecture.md).
 *
 * <p>Maps: {@code messages} ({@link MessageKey} to {@link MessageValue}), {@code subjects}
 * (subject name to {@link SubjectRecord#encode()}), {@code meta} ({@code nextSubjectId}).
 *
 * <p>The background writer of MVStore is disabled: the {@link GroupCommitWriter} thread is the only
 * committer, so {@link MVStore#commit()} writes synchronously and {@link MVStore#sync()} forces exactly
 * what was acknowledged. Records touched by the writer are kept in {@link #dirty} (writer thread only)
 * and written to the {@code subjects} map once per commit.
 *
 * <p>Chunk reuse: MVStore keeps a chunk it no longer needs for a retention time before it may
 * overwrite it, because the version that freed the chunk might not be on the disk yet. Its default
 * (45 s) keeps every chunk of 45 s of single-message commits listed in the chunk metadata that each
 * commit rewrites: measured here, 185 µs of CPU and about 20 KB of file per single-message commit,
 * against 63 µs and a file that reuses its space with retention 0. So the retention is as short as the sync
 * mode makes safe: 0 with {@link SyncMode#ALWAYS} (every commit, compactions included, is forced
 * before the next one can reuse space), twice the sync interval with {@link SyncMode#OS}, where the
 * file is forced before a commit whenever the last force is older than the interval, so a chunk is
 * only reused once the version that freed it was forced. A read on any other thread registers the
 * version it traverses ({@link #reading}), so the writer cannot reuse a chunk under it either.
 *
 * <p>A rollback must only undo the writer's writes, not subjects that readers created meanwhile
 * (their actors hold the ids), so creations since the last commit are remembered and re-applied.
 */
public final class MvMessageStore implements MessageStore {

  private static final Logger LOG = LoggerFactory.getLogger(MvMessageStore.class);
  private static final String NEXT_SUBJECT_ID = "nextSubjectId";
  private static final int COMPACT_TARGET_FILL_RATE = 80;
  private static final int COMPACT_WRITE_LIMIT = 16 * 1024 * 1024;

  private final String fileName;
  private final int cacheMb;
  private final SyncMode syncMode;
  private final long syncIntervalNanos;
  /** Writer thread only: when the file was last forced, and whether commits happened since. */
  private long lastSyncNanos = System.nanoTime();
  private boolean unsynced;
  // Replaced together by reopen() after a write failure; readers see either the old or the new set.
  private volatile MVStore store;
  private volatile MVMap<MessageKey, MessageValue> messages;
  private volatile MVMap<String, byte[]> subjects;
  private volatile MVMap<String, Long> meta;
  private final Map<String, SubjectRecord> dirty = new HashMap<>();
  private final Map<String, SubjectRecord> createdSinceCommit = new ConcurrentHashMap<>();
  private final Object createLock = new Object();
  private long nextSubjectId;

  private MvMessageStore(String fileName, int cacheMb, SyncMode syncMode, Duration osSyncInterval) {
    this.fileName = fileName;
    this.cacheMb = cacheMb;
    this.syncMode = syncMode;
    this.syncIntervalNanos = osSyncInterval.toNanos();
    attach(openFile());
    this.nextSubjectId = meta.getOrDefault(NEXT_SUBJECT_ID, 1L);
  }

  /**
   * Opens (or creates) the store file {@code dstream.mv.db} under {@code dataDir}. With
   * {@link SyncMode#OS} the file is forced at least every {@code osSyncInterval} while commits happen
   * (and by {@link #syncIfDue} when the writer idles).
   */
  public static MvMessageStore open(Path dataDir, int cacheMb, SyncMode syncMode, Duration osSyncInterval) {
    if (osSyncInterval.isNegative() || osSyncInterval.isZero()) {
      throw new IllegalArgumentException("the OS sync interval must be positive, got " + osSyncInterval);
    }
    return new MvMessageStore(dataDir.resolve("dstream.mv.db").toString(), cacheMb, syncMode, osSyncInterval);
  }

  private MVStore openFile() {
    MVStore opened = new MVStore.Builder().fileName(fileName).cacheSize(cacheMb).autoCommitDisabled().open();
    opened.setRetentionTime(syncMode == SyncMode.ALWAYS ? 0 : (int) Math.min(Integer.MAX_VALUE,
        2 * TimeUnit.NANOSECONDS.toMillis(syncIntervalNanos)));
    return opened;
  }

  private void attach(MVStore opened) {
    MVMap<MessageKey, MessageValue> openedMessages = opened.openMap("messages",
        new MVMap.Builder<MessageKey, MessageValue>().keyType(MessageKey.Type.INSTANCE).valueType(MessageValue.Type.INSTANCE));
    MVMap<String, byte[]> openedSubjects = opened.openMap("subjects",
        new MVMap.Builder<String, byte[]>().keyType(StringDataType.INSTANCE).valueType(ByteArrayDataType.INSTANCE));
    MVMap<String, Long> openedMeta = opened.openMap("meta");
    // A rollback to a version before the maps existed would close them.
    opened.commit();
    opened.sync();
    messages = openedMessages;
    subjects = openedSubjects;
    meta = openedMeta;
    store = opened;
  }

  @Override
  public SubjectRecord open(String subject) {
    return reading(() -> openRecord(subject));
  }

  private SubjectRecord openRecord(String subject) {
    byte[] encoded = subjects.get(subject);
    if (encoded != null) {
      return SubjectRecord.decode(encoded);
    }
    synchronized (createLock) {
      encoded = subjects.get(subject);
      if (encoded != null) {
        return SubjectRecord.decode(encoded);
      }
      SubjectRecord created = SubjectRecord.empty(nextSubjectId++);
      meta.put(NEXT_SUBJECT_ID, nextSubjectId);
      subjects.put(subject, created.encode());
      createdSinceCommit.put(subject, created);
      return created;
    }
  }

  @Override
  public SubjectRecord find(String subject) {
    byte[] encoded = reading(() -> subjects.get(subject));
    return encoded == null ? null : SubjectRecord.decode(encoded);
  }

  /**
   * Runs a read made on a thread other than the writer's with the store version it traverses
   * registered: chunks of a registered version are not reused, whatever the retention (see the
   * class comment); without it concurrent reads failed with "Chunk not found".
   */
  private <T> T reading(Supplier<T> read) {
    MVStore current = store;
    MVStore.TxCounter usage = current.registerVersionUsage();
    try {
      return read.get();
    } finally {
      current.deregisterVersionUsage(usage);
    }
  }

  @Override
  public List<Map.Entry<String, SubjectRecord>> subjects(String after, int limit) {
    return reading(() -> subjectsPage(after, limit));
  }

  private List<Map.Entry<String, SubjectRecord>> subjectsPage(String after, int limit) {
    List<Map.Entry<String, SubjectRecord>> page = new ArrayList<>(Math.min(limit, 1024));
    String name = after == null ? subjects.ceilingKey("") : subjects.higherKey(after);
    while (name != null && page.size() < limit) {
      byte[] encoded = subjects.get(name);
      if (encoded != null) {
        page.add(Map.entry(name, SubjectRecord.decode(encoded)));
      }
      name = subjects.higherKey(name);
    }
    return page;
  }

  @Override
  public StoreSize size() {
    // MVMap keeps each page's total count, so both sizes are read off the root pages.
    return reading(() -> new StoreSize(subjects.sizeAsLong(), messages.sizeAsLong(), store.getFileStore().size()));
  }

  @Override
  public SubjectRecord record(String subject) {
    SubjectRecord record = dirty.get(subject);
    if (record != null) {
      return record;
    }
    byte[] encoded = subjects.get(subject);
    return encoded == null ? SubjectRecord.absent() : SubjectRecord.decode(encoded);
  }

  /** The record a write changes; a destroyed subject gets a new one (new id) on its next write. */
  private SubjectRecord writable(String subject) {
    SubjectRecord record = record(subject);
    if (!record.isAbsent()) {
      return record;
    }
    synchronized (createLock) {
      SubjectRecord created = SubjectRecord.empty(nextSubjectId++);
      meta.put(NEXT_SUBJECT_ID, nextSubjectId);
      return created;
    }
  }

  @Override
  public void append(String subject, long sequence, long timestampMs, byte[] payload) {
    SubjectRecord record = writable(subject);
    if (sequence != record.lastSequence() + 1) {
      throw new StoreException("append to '" + subject + "' at sequence " + sequence
          + " but last sequence is " + record.lastSequence());
    }
    messages.put(new MessageKey(record.id(), sequence), new MessageValue(timestampMs, payload));
    dirty.put(subject, record.withAppend(payload.length, timestampMs));
  }

  @Override
  public void putState(String subject, byte[] stateJson) {
    dirty.put(subject, writable(subject).withState(stateJson));
  }

  @Override
  public void setProducerVersion(String subject, long version) {
    dirty.put(subject, writable(subject).withProducerVersion(version));
  }

  @Override
  public void destroy(String subject) {
    SubjectRecord record = record(subject);
    if (!record.isAbsent()) {
      for (long sequence = record.firstSequence(); sequence <= record.lastSequence(); sequence++) {
        messages.remove(new MessageKey(record.id(), sequence));
      }
    }
    dirty.put(subject, SubjectRecord.absent());
  }

  @Override
  public long firstSequenceAtOrAfter(long subjectId, long timestampMs) {
    return reading(() -> searchFirstAtOrAfter(subjectId, timestampMs));
  }

  private long searchFirstAtOrAfter(long subjectId, long timestampMs) {
    MessageKey first = messages.ceilingKey(new MessageKey(subjectId, 0));
    MessageKey last = messages.lowerKey(new MessageKey(subjectId + 1, 0));
    if (first == null || last == null || first.subjectId() != subjectId || last.subjectId() != subjectId) {
      return 0;
    }
    // Smallest sequence in [low, high) whose message (or the next retained one) is recent enough.
    long low = first.sequence();
    long high = last.sequence() + 1;
    while (low < high) {
      long middle = low + (high - low) / 2;
      MessageKey probe = messages.ceilingKey(new MessageKey(subjectId, middle));
      MessageValue value = probe == null || probe.subjectId() != subjectId ? null : messages.get(probe);
      if (value == null || value.timestampMs() >= timestampMs) {
        high = middle;
      } else {
        low = probe.sequence() + 1;
      }
    }
    return low > last.sequence() ? 0 : low;
  }

  @Override
  public void putAttributes(String subject, byte[] attributes) {
    dirty.put(subject, writable(subject).withAttributes(attributes));
  }

  @Override
  public SubjectRecord deleteUpTo(String subject, long upTo) {
    SubjectRecord record = record(subject);
    if (record.isAbsent()) {
      return record;
    }
    long end = Math.min(upTo, record.lastSequence());
    // Messages evicted to the archive are not local any more but still count as retained.
    long deletedMessages = Math.max(0, end - record.firstSequence() + 1);
    long deletedBytes = 0;
    for (long sequence = record.firstSequence(); sequence <= end; sequence++) {
      MessageValue removed = messages.remove(new MessageKey(record.id(), sequence));
      if (removed != null) {
        deletedBytes += removed.payload().length;
      }
    }
    SubjectRecord updated = end < record.firstSequence() ? record
        : record.withDeleted(end + 1, deletedMessages, deletedBytes);
    dirty.put(subject, updated);
    return updated;
  }

  @Override
  public int evict(String subject, StoreWrite.Evict evict, int maxMessages) {
    SubjectRecord record = record(subject);
    if (record.isAbsent()) {
      return 0;
    }
    Cursor<MessageKey, MessageValue> cursor = messages.cursor(new MessageKey(record.id(), record.firstSequence()));
    List<MessageKey> evicted = new ArrayList<>();
    long localBytes = record.bytes();
    long localMessages = -1;
    long evictedBytes = 0;
    while (evicted.size() < maxMessages && cursor.hasNext()) {
      MessageKey key = cursor.next();
      if (key.subjectId() != record.id() || key.sequence() > evict.upTo()) {
        break;
      }
      if (localMessages < 0) {
        localMessages = record.lastSequence() - key.sequence() + 1;
      }
      MessageValue value = cursor.getValue();
      boolean outside = localMessages > evict.keepMessages() || localBytes > evict.keepBytes()
          || value.timestampMs() < evict.minTimestampMs();
      if (!outside) {
        break;
      }
      evicted.add(key);
      localMessages--;
      localBytes -= value.payload().length;
      evictedBytes += value.payload().length;
    }
    evicted.forEach(messages::remove);
    if (!evicted.isEmpty()) {
      dirty.put(subject, record.withEvicted(evictedBytes));
    }
    return evicted.size();
  }

  @Override
  public void restore(String subject, StoreWrite.Restore restore) {
    SubjectRecord record = writable(subject);
    if (record.lastSequence() != 0) {
      throw new StoreException("cannot restore '" + subject + "': it already has sequence " + record.lastSequence());
    }
    dirty.put(subject, record.withRestored(restore));
  }

  @Override
  public List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
    return reading(() -> readPage(subjectId, fromSequence, maxMessages, maxBytes));
  }

  private List<StoredMessage> readPage(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
    List<StoredMessage> result = new ArrayList<>(Math.min(maxMessages, 256));
    Cursor<MessageKey, MessageValue> cursor = messages.cursor(new MessageKey(subjectId, fromSequence));
    long bytes = 0;
    while (result.size() < maxMessages && bytes < maxBytes && cursor.hasNext()) {
      MessageKey key = cursor.next();
      if (key.subjectId() != subjectId) {
        break;
      }
      MessageValue value = cursor.getValue();
      result.add(new StoredMessage(key.sequence(), value.timestampMs(), value.payload()));
      bytes += value.payload().length;
    }
    return result;
  }

  @Override
  public void commit() {
    Set<String> created = Set.copyOf(createdSinceCommit.keySet());
    dirty.forEach((subject, record) -> {
      if (record.isAbsent()) {
        subjects.remove(subject);
      } else {
        subjects.put(subject, record.encode());
      }
    });
    dirty.clear();
    commitAndForce();
    created.forEach(createdSinceCommit::remove);
  }

  /** The only way this store commits: see the class comment on chunk reuse. */
  private void commitAndForce() {
    if (syncMode == SyncMode.OS) {
      syncIfDue();
    }
    store.commit();
    if (syncMode == SyncMode.ALWAYS) {
      store.sync();
    } else {
      unsynced = true;
    }
  }

  @Override
  public void syncIfDue() {
    long now = System.nanoTime();
    if (unsynced && now - lastSyncNanos >= syncIntervalNanos) {
      store.sync();
      lastSyncNanos = now;
      unsynced = false;
    }
  }

  @Override
  public SyncMode syncMode() {
    return syncMode;
  }

  /**
   * Undoes the writes since the last commit. A failed file write (a full disk, an I/O error) leaves
   * MVStore closed and refusing everything; then the file is reopened at its last commit, which is
   * exactly what was acknowledged. If that fails too (the disk is still full), the exception
   * propagates and the next failed batch tries again.
   */
  @Override
  public void rollback() {
    dirty.clear();
    synchronized (createLock) {
      try {
        store.rollback();
      } catch (MVStoreException e) {
        reopen(e);
      }
      if (store.isClosed()) {
        reopen(null);
      }
      createdSinceCommit.forEach((subject, record) -> subjects.put(subject, record.encode()));
      meta.put(NEXT_SUBJECT_ID, nextSubjectId);
    }
  }

  private void reopen(MVStoreException cause) {
    store.closeImmediately();
    try {
      attach(openFile());
      LOG.warn("store file reopened at its last commit after a failed write");
    } catch (MVStoreException e) {
      if (cause != null) {
        e.addSuppressed(cause);
      }
      throw new StoreException("the store file cannot be reopened after a failed write: " + e.getMessage(), e);
    }
  }

  @Override
  public void compact() {
    if (store.compact(COMPACT_TARGET_FILL_RATE, COMPACT_WRITE_LIMIT)) {
      commitAndForce();
    }
  }

  @Override
  public void close() {
    if (!store.isClosed()) {
      // Forced here too: with retention 0 the closing commit may reuse space (see the class comment).
      store.commit();
      store.sync();
    }
    store.close();
  }
}
