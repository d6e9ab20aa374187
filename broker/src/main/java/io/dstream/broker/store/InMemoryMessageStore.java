package io.dstream.broker.store;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link MessageStore} in memory: the same contract as {@link MvMessageStore} without a file, for
 * tests that need a store whose every call can be watched, and as the second implementation that
 * keeps the contract honest ({@code MessageStoreContract} runs on both). Nothing survives
 * {@link #close}; {@link #apply} publishes the
 * records it changed, {@link #commit} ends what a rollback undoes, and {@link #sync} has nothing to force.
 *
 * <p>Threading as the contract says. Messages live in one concurrent sorted map per subject id,
 * written in place by the writer thread (readers may see applied but uncommitted messages, as with
 * H2; the actors only read what was acknowledged); each change records how to undo it until the
 * next commit, which is what {@link #rollback} runs. Subjects created by {@link #open} are committed
 * at once and survive a rollback, as in {@link MvMessageStore}.
 */
public final class InMemoryMessageStore implements MessageStore {

  private final ConcurrentSkipListMap<String, SubjectRecord> subjects = new ConcurrentSkipListMap<>();
  private final Map<Long, ConcurrentSkipListMap<Long, StoredMessage>> messages = new ConcurrentHashMap<>();
  private final AtomicLong nextSubjectId = new AtomicLong(1);
  /** Writer thread only: how to undo the changes since the last commit, newest first. */
  private final Deque<Runnable> undo = new ArrayDeque<>();

  @Override
  public SubjectRecord open(String subject) {
    return subjects.computeIfAbsent(subject, s -> SubjectRecord.empty(nextSubjectId.getAndIncrement()));
  }

  @Override
  public SubjectRecord find(String subject) {
    return subjects.get(subject);
  }

  @Override
  public List<Map.Entry<String, SubjectRecord>> subjects(String after, int limit) {
    NavigableMap<String, SubjectRecord> tail = after == null ? subjects : subjects.tailMap(after, false);
    List<Map.Entry<String, SubjectRecord>> page = new ArrayList<>(Math.min(limit, 1024));
    for (Map.Entry<String, SubjectRecord> entry : tail.entrySet()) {
      if (page.size() == limit) {
        break;
      }
      page.add(Map.entry(entry.getKey(), entry.getValue()));
    }
    return page;
  }

  /** Subjects and local messages; no file, so 0 bytes of it. Counts every subject's map (tests only hold few). */
  @Override
  public StoreSize size() {
    return new StoreSize(subjects.size(), messages.values().stream().mapToLong(Map::size).sum(), 0);
  }

  @Override
  public List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
    List<StoredMessage> result = new ArrayList<>();
    long bytes = 0;
    for (StoredMessage message : local(subjectId).tailMap(fromSequence).values()) {
      if (result.size() == maxMessages || bytes >= maxBytes) {
        break;
      }
      result.add(message);
      bytes += message.payload().length;
    }
    return result;
  }

  @Override
  public long firstSequenceAtOrAfter(long subjectId, long timestampMs) {
    for (StoredMessage message : local(subjectId).values()) {
      if (message.timestampMs() >= timestampMs) {
        return message.sequence();
      }
    }
    return 0;
  }

  private ConcurrentSkipListMap<Long, StoredMessage> local(long subjectId) {
    return messages.getOrDefault(subjectId, new ConcurrentSkipListMap<>());
  }

  @Override
  public List<SubjectRecord> apply(List<SubjectWrites> group) {
    List<SubjectRecord> records = new ArrayList<>(group.size());
    Map<String, SubjectRecord> changed = new HashMap<>();
    for (SubjectWrites writes : group) {
      SubjectRecord record = changed.containsKey(writes.subject()) ? changed.get(writes.subject())
          : subjects.getOrDefault(writes.subject(), SubjectRecord.absent());
      for (StoreWrite write : writes.writes()) {
        record = applyOne(writes.subject(), record, write);
      }
      changed.put(writes.subject(), record);
      records.add(record);
    }
    changed.forEach(this::publish);
    return records;
  }

  /** Makes {@code record} the subject's, readable at once, and remembers how to undo it. */
  private void publish(String subject, SubjectRecord record) {
    SubjectRecord before = record.isAbsent() ? subjects.remove(subject) : subjects.put(subject, record);
    undo.push(() -> {
      if (before == null) {
        subjects.remove(subject);
      } else {
        subjects.put(subject, before);
      }
    });
  }

  private SubjectRecord applyOne(String subject, SubjectRecord record, StoreWrite write) {
    if (write instanceof StoreWrite.Append append) {
      SubjectRecord live = live(record);
      if (append.sequence() != live.lastSequence() + 1) {
        throw new StoreException("append to '" + subject + "' at sequence " + append.sequence()
            + " but last sequence is " + live.lastSequence());
      }
      ConcurrentSkipListMap<Long, StoredMessage> local = messages.computeIfAbsent(live.id(),
          id -> new ConcurrentSkipListMap<>());
      local.put(append.sequence(), new StoredMessage(append.sequence(), append.timestampMs(), append.payload()));
      undo.push(() -> local.remove(append.sequence()));
      return live.withAppend(append.payload().length, append.timestampMs());
    } else if (write instanceof StoreWrite.PutState putState) {
      return live(record).withState(subject, putState);
    } else if (write instanceof StoreWrite.PutView view) {
      return live(record).withView(view.view(), view.data());
    } else if (write instanceof StoreWrite.DeleteUpTo delete) {
      return record.isAbsent() ? record : record.withDeletedUpTo(delete.sequence(), remove(record.id(), delete.sequence()));
    } else if (write instanceof StoreWrite.Evict evict) {
      long end = record.isAbsent() ? 0 : evict.lastEvicted(record, local(record.id()).values());
      return end == 0 ? record : record.withEvicted(remove(record.id(), end));
    } else if (write instanceof StoreWrite.Restore restore) {
      SubjectRecord live = live(record);
      if (live.lastSequence() != 0) {
        throw new StoreException("cannot restore '" + subject + "': it already has sequence " + live.lastSequence());
      }
      return live.withRestored(restore);
    } else {
      if (!record.isAbsent()) {
        remove(record.id(), Long.MAX_VALUE);
      }
      return SubjectRecord.absent();
    }
  }

  private SubjectRecord live(SubjectRecord record) {
    return record.isAbsent() ? SubjectRecord.empty(nextSubjectId.getAndIncrement()) : record;
  }

  private long remove(long subjectId, long upTo) {
    ConcurrentSkipListMap<Long, StoredMessage> local = local(subjectId);
    long removedBytes = 0;
    for (StoredMessage removed : new ArrayList<>(local.headMap(upTo, true).values())) {
      local.remove(removed.sequence());
      undo.push(() -> local.put(removed.sequence(), removed));
      removedBytes += removed.payload().length;
    }
    return removedBytes;
  }

  @Override
  public void commit() {
    undo.clear();
  }

  @Override
  public void sync() {
    // Nothing to force.
  }

  @Override
  public void rollback() {
    while (!undo.isEmpty()) {
      undo.pop().run();
    }
  }

  @Override
  public void compact() {
    // Nothing is sparse in memory.
  }

  @Override
  public void close() {
    subjects.clear();
    messages.clear();
  }
}
