package io.dstream.broker.store;

import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.MVStoreException;
import org.h2.mvstore.type.ByteArrayDataType;
import org.h2.mvstore.type.StringDataType;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * {@link MessageStore} on an H2 MVStore file ({@code dstream.mv.db} in the data dir), used directly
 * rather than through SQL so that commit and force are explicit calls (see docs/architecture.md).
 *
 * <p>Maps (layout 2): {@code log} and {@code runs}, the messages in append order with their
 * per-subject index (format in {@link MessageLog}); {@code subjects} (subject name to
 * {@link SubjectRecord#encode()}); {@code meta} ({@code nextSubjectId}, {@code logIndexedUpTo}). A file of layout 1, whose
 * messages were one map ordered by subject and sequence, is migrated when it opens
 * ({@link LegacyLayout}).
 *
 * <p>The background writer of MVStore is disabled: the writer thread ({@link GroupCommitWriter}, or a
 * cluster node's replica writer) is the only committer, so {@link MVStore#commit()} writes synchronously
 * and {@link MVStore#sync()} forces exactly what was committed. The records a group changes are
 * written to the {@code subjects} map once, at the end of its {@link #apply}: readers see them from
 * then on, as they see its messages, and a rollback takes them back with the messages.
 *
 * <p>Chunk reuse: MVStore keeps a chunk it no longer needs for a retention time before it may
 * overwrite it, because the version that freed the chunk might not be on the disk yet. Its default
 * (45 s) keeps every chunk of 45 s of single-message commits listed in the chunk metadata that each
 * commit rewrites: measured here, 185 µs of CPU and about 20 KB of file per single-message commit,
 * against 63 µs and a file that reuses its space with retention 0. So the retention is as short as the
 * {@link SyncPolicy} makes safe: 0 with {@link SyncMode#ALWAYS} (the writer forces every commit before
 * the next one can reuse space; compactions and the closing commit force here), twice the sync interval
 * with {@link SyncMode#OS}, where the writer forces the file before a commit whenever the last force is
 * older than the interval, so a chunk is only reused once the version that freed it was forced. A read
 * on any other thread registers the version it traverses ({@link #reading}), so the writer cannot reuse
 * a chunk under it either.
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
  private final SyncPolicy sync;
  // Replaced together by reopen() after a write failure; readers see either the old or the new set.
  private volatile MVStore store;
  private volatile MessageLog log;
  private volatile MVMap<String, byte[]> subjects;
  private volatile MVMap<String, Long> meta;
  /** Writer thread only: whether anything was applied since the last commit or rollback. */
  private boolean applied;
  private final Map<String, SubjectRecord> createdSinceCommit = new ConcurrentHashMap<>();
  private final Object createLock = new Object();
  private long nextSubjectId;

  private MvMessageStore(String fileName, int cacheMb, SyncPolicy sync) {
    this.fileName = fileName;
    this.cacheMb = cacheMb;
    this.sync = sync;
    attach(openFile());
    this.nextSubjectId = meta.getOrDefault(NEXT_SUBJECT_ID, 1L);
  }

  /**
   * Opens (or creates) the store file {@code dstream.mv.db} under {@code dataDir}, migrating a file of
   * layout 1. {@code sync} must be the writer's policy: it decides how soon freed space is reused.
   */
  public static MvMessageStore open(Path dataDir, int cacheMb, SyncPolicy sync) {
    return new MvMessageStore(dataDir.resolve("dstream.mv.db").toString(), cacheMb, sync);
  }

  private MVStore openFile() {
    MVStore opened = new MVStore.Builder().fileName(fileName).cacheSize(cacheMb).autoCommitDisabled().open();
    opened.setRetentionTime(sync.mode() == SyncMode.ALWAYS ? 0 : (int) Math.min(Integer.MAX_VALUE,
        2 * sync.osInterval().toMillis()));
    return opened;
  }

  private void attach(MVStore opened) {
    MVMap<String, byte[]> openedSubjects = opened.openMap("subjects",
        new MVMap.Builder<String, byte[]>().keyType(StringDataType.INSTANCE).valueType(ByteArrayDataType.INSTANCE));
    MVMap<String, Long> openedMeta = opened.openMap("meta");
    MessageLog openedLog = MessageLog.open(opened, openedMeta);
    LegacyLayout.migrate(opened, openedLog);
    // A rollback to a version before the maps existed would close them.
    opened.commit();
    opened.sync();
    log = openedLog;
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
    return reading(() -> new StoreSize(subjects.sizeAsLong(), log.size(), store.getFileStore().size()));
  }

  @Override
  public List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
    return reading(() -> log.read(subjectId, fromSequence, maxMessages, maxBytes));
  }

  @Override
  public long firstSequenceAtOrAfter(long subjectId, long timestampMs) {
    return reading(() -> log.firstSequenceAtOrAfter(subjectId, timestampMs));
  }

  @Override
  public List<SubjectRecord> apply(List<SubjectWrites> group) {
    applied = true;
    List<SubjectRecord> records = new ArrayList<>(group.size());
    // A subject may have several writes in a group: its record is encoded and written once.
    Map<String, SubjectRecord> changed = new HashMap<>();
    for (SubjectWrites writes : group) {
      SubjectRecord before = changed.get(writes.subject());
      SubjectRecord record = applyWrites(writes, before != null ? before : record(writes.subject()));
      changed.put(writes.subject(), record);
      records.add(record);
    }
    changed.forEach((subject, record) -> {
      if (record.isAbsent()) {
        subjects.remove(subject);
      } else {
        subjects.put(subject, record.encode());
      }
    });
    return records;
  }

  /** One subject's writes after {@code record}; its consecutive appends go to the log together, as one run. */
  private SubjectRecord applyWrites(SubjectWrites writes, SubjectRecord record) {
    List<StoreWrite.Append> appends = new ArrayList<>();
    for (StoreWrite write : writes.writes()) {
      if (write instanceof StoreWrite.Append append) {
        record = live(record);
        if (append.sequence() != record.lastSequence() + 1) {
          throw new StoreException("append to '" + writes.subject() + "' at sequence " + append.sequence()
              + " but last sequence is " + record.lastSequence());
        }
        appends.add(append);
        record = record.withAppend(append.payload().length, append.timestampMs());
        continue;
      }
      appendRun(record, appends);
      record = applyOther(writes.subject(), record, write);
    }
    appendRun(record, appends);
    return record;
  }

  private void appendRun(SubjectRecord record, List<StoreWrite.Append> appends) {
    if (!appends.isEmpty()) {
      log.append(record.id(), appends);
      appends.clear();
    }
  }

  private SubjectRecord applyOther(String subject, SubjectRecord record, StoreWrite write) {
    if (write instanceof StoreWrite.PutState putState) {
      return live(record).withState(subject, putState);
    } else if (write instanceof StoreWrite.PutView view) {
      return live(record).withView(view.view(), view.data());
    } else if (write instanceof StoreWrite.DeleteUpTo delete) {
      return record.isAbsent() ? record
          : record.withDeletedUpTo(delete.sequence(), log.removeUpTo(record.id(), delete.sequence()));
    } else if (write instanceof StoreWrite.Evict evict) {
      // Most evictions find the subject within its hot window: the oldest message alone tells, so the
      // up to 10,000 messages (payloads included) are only read when the oldest has to go.
      long end = record.isAbsent() ? 0 : evict.lastEvicted(record, log.read(record.id(), record.firstSequence(), 1,
          Long.MAX_VALUE));
      if (end != 0) {
        end = evict.lastEvicted(record,
            log.read(record.id(), record.firstSequence(), StoreWrite.MAX_EVICTIONS_PER_WRITE, Long.MAX_VALUE));
      }
      return end == 0 ? record : record.withEvicted(log.removeUpTo(record.id(), end));
    } else if (write instanceof StoreWrite.Restore restore) {
      SubjectRecord restored = live(record);
      if (restored.lastSequence() != 0) {
        throw new StoreException("cannot restore '" + subject + "': it already has sequence " + restored.lastSequence());
      }
      return restored.withRestored(restore);
    } else {
      if (!record.isAbsent()) {
        log.removeUpTo(record.id(), Long.MAX_VALUE);
      }
      return SubjectRecord.absent();
    }
  }

  /** The subject's applied record; an absent one (id 0) if there is none. */
  private SubjectRecord record(String subject) {
    byte[] encoded = subjects.get(subject);
    return encoded == null ? SubjectRecord.absent() : SubjectRecord.decode(encoded);
  }

  /** The record a write changes; a destroyed subject gets a new one (new id) on its next write. */
  private SubjectRecord live(SubjectRecord record) {
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
  public void commit() {
    Set<String> created = Set.copyOf(createdSinceCommit.keySet());
    log.beforeCommit(false);
    store.commit();
    applied = false;
    log.afterCommit();
    created.forEach(createdSinceCommit::remove);
  }

  @Override
  public void sync() {
    store.sync();
  }

  /**
   * Undoes the writes since the last commit. A failed file write (a full disk, an I/O error) leaves
   * MVStore closed and refusing everything; then the file is reopened at its last commit, which is
   * exactly what was acknowledged. If that fails too (the disk is still full), the exception
   * propagates and the next failed batch tries again.
   */
  @Override
  public void rollback() {
    applied = false;
    synchronized (createLock) {
      try {
        store.rollback();
      } catch (MVStoreException e) {
        reopen(e);
      }
      if (store.isClosed()) {
        reopen(null);
      }
      log.afterRollback();
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
      // Forced at once whatever the sync mode: with retention 0 the next commit may reuse what it freed.
      store.commit();
      store.sync();
    }
  }

  @Override
  public void close() {
    if (applied) {
      // Applied without a commit (the writer failed between the two): never half of it on the disk.
      rollback();
    }
    if (!store.isClosed()) {
      log.beforeCommit(true);
      // Forced here too: with retention 0 the closing commit may reuse space (see the class comment).
      store.commit();
      store.sync();
    }
    store.close();
  }
}
