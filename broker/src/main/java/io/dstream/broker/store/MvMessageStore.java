package io.dstream.broker.store;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ByteArrayDataType;
import org.h2.mvstore.type.StringDataType;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

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
 * <p>A rollback must only undo the writer's writes, not subjects that readers created meanwhile
 * (their actors hold the ids), so creations since the last commit are remembered and re-applied.
 */
public final class MvMessageStore implements MessageStore {

  private static final String NEXT_SUBJECT_ID = "nextSubjectId";
  private static final int COMPACT_TARGET_FILL_RATE = 80;
  private static final int COMPACT_WRITE_LIMIT = 16 * 1024 * 1024;

  private final MVStore store;
  private final MVMap<MessageKey, MessageValue> messages;
  private final MVMap<String, byte[]> subjects;
  private final MVMap<String, Long> meta;
  private final Map<String, SubjectRecord> dirty = new HashMap<>();
  private final Map<String, SubjectRecord> createdSinceCommit = new ConcurrentHashMap<>();
  private final Object createLock = new Object();
  private long nextSubjectId;

  private MvMessageStore(MVStore store) {
    this.store = store;
    this.messages = store.openMap("messages",
        new MVMap.Builder<MessageKey, MessageValue>().keyType(MessageKey.Type.INSTANCE).valueType(MessageValue.Type.INSTANCE));
    this.subjects = store.openMap("subjects",
        new MVMap.Builder<String, byte[]>().keyType(StringDataType.INSTANCE).valueType(ByteArrayDataType.INSTANCE));
    this.meta = store.openMap("meta");
    this.nextSubjectId = meta.getOrDefault(NEXT_SUBJECT_ID, 1L);
    // A rollback to a version before the maps existed would close them.
    store.commit();
  }

  /** Opens (or creates) the store file {@code dstream.mv.db} under {@code dataDir}. */
  public static MvMessageStore open(Path dataDir, int cacheMb) {
    MVStore store = new MVStore.Builder()
        .fileName(dataDir.resolve("dstream.mv.db").toString())
        .cacheSize(cacheMb)
        .autoCommitDisabled()
        .open();
    return new MvMessageStore(store);
  }

  @Override
  public SubjectRecord open(String subject) {
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
  public SubjectRecord record(String subject) {
    SubjectRecord record = dirty.get(subject);
    if (record != null) {
      return record;
    }
    byte[] encoded = subjects.get(subject);
    if (encoded == null) {
      throw new StoreException("subject not opened: " + subject);
    }
    return SubjectRecord.decode(encoded);
  }

  @Override
  public void append(String subject, long sequence, long timestampMs, byte[] payload) {
    SubjectRecord record = record(subject);
    if (sequence != record.lastSequence() + 1) {
      throw new StoreException("append to '" + subject + "' at sequence " + sequence
          + " but last sequence is " + record.lastSequence());
    }
    messages.put(new MessageKey(record.id(), sequence), new MessageValue(timestampMs, payload));
    dirty.put(subject, record.withAppend(payload.length));
  }

  @Override
  public void putState(String subject, byte[] stateJson) {
    dirty.put(subject, record(subject).withState(stateJson));
  }

  @Override
  public SubjectRecord deleteUpTo(String subject, long upTo) {
    SubjectRecord record = record(subject);
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
    SubjectRecord record = record(subject);
    if (record.lastSequence() != 0) {
      throw new StoreException("cannot restore '" + subject + "': it already has sequence " + record.lastSequence());
    }
    dirty.put(subject, record.withRestored(restore.firstSequence(), restore.lastSequence(), restore.stateJson()));
  }

  @Override
  public List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
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
  public void commit(SyncMode mode) {
    Set<String> created = Set.copyOf(createdSinceCommit.keySet());
    dirty.forEach((subject, record) -> subjects.put(subject, record.encode()));
    dirty.clear();
    store.commit();
    if (mode == SyncMode.ALWAYS) {
      store.sync();
    }
    created.forEach(createdSinceCommit::remove);
  }

  @Override
  public void rollback() {
    dirty.clear();
    synchronized (createLock) {
      store.rollback();
      createdSinceCommit.forEach((subject, record) -> subjects.put(subject, record.encode()));
      meta.put(NEXT_SUBJECT_ID, nextSubjectId);
    }
  }

  @Override
  public void compact() {
    if (store.compact(COMPACT_TARGET_FILL_RATE, COMPACT_WRITE_LIMIT)) {
      store.commit();
    }
  }

  @Override
  public void close() {
    store.close();
  }
}
