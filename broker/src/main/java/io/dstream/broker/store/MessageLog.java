package io.dstream.broker.store;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.LongDataType;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The messages of every subject inside the H2 file, in append order (layout 2): a group commit
 * appends its messages at the end of one map instead of inserting each subject's messages into the
 * middle of a map ordered by subject, which rewrote one B-tree leaf (about 48 messages) per subject
 * per commit (docs/benchmarks.md, scenario 5). The shape of Kafka's log and JetStream's filestore:
 * an append-ordered log plus a per-subject index.
 *
 * <p>On-disk format, two maps of the store file:
 * <ul>
 *   <li>{@code log}: key = log position (a long, from 1, one per message, never reused while the
 *       file lives), value = {@link LogEntry} (subject id, sequence, publish time, payload). Positions
 *       grow in commit order, so a commit only touches the right edge of this B-tree.</li>
 *   <li>{@code runs}: key = {@link MessageKey} (subject id, first sequence of the run), value =
 *       {@link Run} (position of that sequence, count): the run's sequences sit at consecutive
 *       positions. A commit writes a subject's messages contiguously, so it adds or extends one run per
 *       subject; a run that ends at the position where the subject's next message is appended (nothing
 *       else was written in between, as with one busy subject) is extended instead of a new one. A
 *       subject's runs cover its local messages without overlap; deletions and evictions trim runs from
 *       the front.</li>
 * </ul>
 * A subject's messages, its run entries and its {@link SubjectRecord} are written in the same MVStore
 * commit, so they never disagree after a crash. Reading by sequence is a floor lookup in
 * {@code runs} and a range cursor over {@code log} per run.
 *
 * <p>Threading: the writing methods run on the writer thread only. The reads run on any thread
 * (inside {@link MvMessageStore}'s version registration) concurrently with the writer: a writer adds a
 * message to the log before the run that points at it, and re-keys a trimmed run before removing its
 * messages, so a reader sees either the old or the new run and skips positions removed meanwhile.
 */
final class MessageLog {

  static final String LOG_MAP = "log";
  static final String RUNS_MAP = "runs";

  private final MVMap<Long, LogEntry> log;
  private final MVMap<MessageKey, Run> runs;
  /** Writer thread only: the position of the next appended message. */
  private long nextPosition;

  private MessageLog(MVMap<Long, LogEntry> log, MVMap<MessageKey, Run> runs) {
    this.log = log;
    this.runs = runs;
    resetPosition();
  }

  static MessageLog open(MVStore store) {
    return new MessageLog(
        store.openMap(LOG_MAP, new MVMap.Builder<Long, LogEntry>().keyType(LongDataType.INSTANCE)
            .valueType(LogEntry.Type.INSTANCE)),
        store.openMap(RUNS_MAP, new MVMap.Builder<MessageKey, Run>().keyType(MessageKey.Type.INSTANCE)
            .valueType(Run.Type.INSTANCE)));
  }

  /** Re-reads the end of the log, after the store rolled back. */
  void resetPosition() {
    Long last = log.lastKey();
    nextPosition = last == null ? 1 : last + 1;
  }

  /** Removes every message and run (before a migration fills the log anew). */
  void clear() {
    log.clear();
    runs.clear();
    resetPosition();
  }

  /** Appends consecutive messages of one subject ({@code appends} in sequence order, starting at {@code first}). */
  void append(long subjectId, List<StoreWrite.Append> appends) {
    long firstPosition = nextPosition;
    for (StoreWrite.Append append : appends) {
      log.put(nextPosition++, new LogEntry(subjectId, append.sequence(), append.timestampMs(), append.payload()));
    }
    long firstSequence = appends.get(0).sequence();
    MessageKey lastKey = runs.floorKey(new MessageKey(subjectId, Long.MAX_VALUE));
    Run last = lastKey == null || lastKey.subjectId() != subjectId ? null : runs.get(lastKey);
    if (last != null && last.endPosition() == firstPosition && lastKey.sequence() + last.count() == firstSequence) {
      runs.put(lastKey, new Run(last.position(), last.count() + appends.size()));
    } else {
      runs.put(new MessageKey(subjectId, firstSequence), new Run(firstPosition, appends.size()));
    }
  }

  /** Appends one entry as it is and returns its position: for the migration from layout 1, with {@link #putRun}. */
  long appendEntry(LogEntry entry) {
    long position = nextPosition++;
    log.put(position, entry);
    return position;
  }

  /** Indexes {@code count} entries appended by {@link #appendEntry} from {@code position} as one run. */
  void putRun(long subjectId, long firstSequence, long position, long count) {
    runs.put(new MessageKey(subjectId, firstSequence), new Run(position, count));
  }

  /**
   * Removes the subject's local messages with sequence {@code <= upTo}.
   * @return the payload bytes removed
   */
  long removeUpTo(long subjectId, long upTo) {
    List<Map.Entry<MessageKey, Run>> trimmed = new ArrayList<>();
    Cursor<MessageKey, Run> cursor = runs.cursor(new MessageKey(subjectId, 0));
    while (cursor.hasNext()) {
      MessageKey key = cursor.next();
      if (key.subjectId() != subjectId || key.sequence() > upTo) {
        break;
      }
      trimmed.add(Map.entry(key, cursor.getValue()));
    }
    long removedBytes = 0;
    for (Map.Entry<MessageKey, Run> entry : trimmed) {
      MessageKey key = entry.getKey();
      Run run = entry.getValue();
      long removed = Math.min(run.count(), upTo - key.sequence() + 1);
      if (removed < run.count()) {
        runs.put(new MessageKey(subjectId, key.sequence() + removed), new Run(run.position() + removed,
            run.count() - removed));
      }
      runs.remove(key);
      for (long position = run.position(); position < run.position() + removed; position++) {
        LogEntry gone = log.remove(position);
        if (gone != null) {
          removedBytes += gone.payload().length;
        }
      }
    }
    return removedBytes;
  }

  /** See {@link MessageStore#read}. */
  List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
    List<StoredMessage> result = new ArrayList<>(Math.min(maxMessages, 256));
    MessageKey start = runs.floorKey(new MessageKey(subjectId, fromSequence));
    if (start == null || start.subjectId() != subjectId) {
      start = new MessageKey(subjectId, fromSequence);
    }
    Cursor<MessageKey, Run> cursor = runs.cursor(start);
    long bytes = 0;
    while (result.size() < maxMessages && bytes < maxBytes && cursor.hasNext()) {
      MessageKey key = cursor.next();
      if (key.subjectId() != subjectId) {
        break;
      }
      Run run = cursor.getValue();
      long skip = Math.max(0, fromSequence - key.sequence());
      if (skip >= run.count()) {
        continue;
      }
      Cursor<Long, LogEntry> entries = log.cursor(run.position() + skip, run.endPosition() - 1, false);
      while (result.size() < maxMessages && bytes < maxBytes && entries.hasNext()) {
        entries.next();
        LogEntry entry = entries.getValue();
        result.add(new StoredMessage(entry.sequence(), entry.timestampMs(), entry.payload()));
        bytes += entry.payload().length;
      }
    }
    return result;
  }

  /** See {@link MessageStore#firstSequenceAtOrAfter}: a binary search over the subject's sequences. */
  long firstSequenceAtOrAfter(long subjectId, long timestampMs) {
    MessageKey firstKey = runs.ceilingKey(new MessageKey(subjectId, 0));
    MessageKey lastKey = runs.floorKey(new MessageKey(subjectId, Long.MAX_VALUE));
    if (firstKey == null || lastKey == null || firstKey.subjectId() != subjectId || lastKey.subjectId() != subjectId) {
      return 0;
    }
    Run lastRun = runs.get(lastKey);
    long last = lastKey.sequence() + (lastRun == null ? 0 : lastRun.count() - 1);
    // Smallest sequence in [low, high) whose message (or the next local one) is recent enough.
    long low = firstKey.sequence();
    long high = last + 1;
    while (low < high) {
      long middle = low + (high - low) / 2;
      List<StoredMessage> probe = read(subjectId, middle, 1, Long.MAX_VALUE);
      if (probe.isEmpty() || probe.get(0).timestampMs() >= timestampMs) {
        high = middle;
      } else {
        low = probe.get(0).sequence() + 1;
      }
    }
    return low > last ? 0 : low;
  }
}
