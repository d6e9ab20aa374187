package io.dstream.broker.store;

import org.h2.mvstore.Cursor;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.LongDataType;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * The messages of every subject inside the H2 file, in append order (layout 2), with a per-subject
 * index of where each subject's runs start. A group commit appends its messages at the right edge of
 * one B-tree instead of inserting each subject's messages into a map ordered by subject, which
 * rewrote one leaf (about 48 messages) per subject per commit (docs/benchmarks.md, scenario 5). The
 * shape of Kafka's log and JetStream's filestore: an append-ordered log, a per-subject index, and
 * recovery of the newest index entries by scanning the tail of the log.
 *
 * <p>On-disk format, in the store file:
 * <ul>
 *   <li>{@code log}: key = log position (a long from 1, growing in commit order), value =
 *       {@link LogEntry} (subject id, sequence, publish time, payload).</li>
 *   <li>{@code runs}: key = {@link MessageKey} (subject id, first sequence of a run), value = the log
 *       position of that message. A run is a stretch of consecutive sequences of one subject at
 *       consecutive positions; it ends where the next position holds anything else or nothing. So
 *       sequence {@code s} of a run starting at {@code (first, position)} is at
 *       {@code position + s - first}, and a subject appending alone (nothing between its messages)
 *       stays one run, with no index write per commit.</li>
 *   <li>{@code meta["logIndexedUpTo"]}: every run starting at a position up to this one is in
 *       {@code runs}. Runs starting after it are indexed in memory only ({@link #tail}) and rebuilt
 *       when the file opens by scanning the log after that position ({@link #recover}).</li>
 * </ul>
 * The in-memory tail is moved into {@code runs} in one commit ({@link #beforeCommit}) once it holds
 * {@link #TAIL_RUNS_LIMIT} run starts or {@link #TAIL_POSITIONS_LIMIT} positions
 * were appended since the last move (what a restart after a crash scans), and on close; so a commit
 * of many subjects writes one run start each into memory, and the subject-ordered {@code runs}
 * B-tree is rewritten once per move instead of once per commit. Messages and run starts are written
 * in the same MVStore commit as the subject records, so they never disagree after a crash.
 *
 * <p>Threading: the writing methods run on the writer thread only; reads run on any thread
 * (inside {@link MvMessageStore}'s version registration), concurrently with the writer. Readers see
 * the writer's applied changes as MVStore's maps do (the actors only read acknowledged sequences).
 * A reader checks every entry it returns (subject and the expected sequence at the expected
 * position) and, where a run ends, looks the next one up, so a run trimmed meanwhile ends early
 * instead of returning anything else; a trim adds the new run start before removing the old one.
 */
final class MessageLog {

  static final String LOG_MAP = "log";
  static final String RUNS_MAP = "runs";
  static final String INDEXED_UP_TO = "logIndexedUpTo";
  /**
   * Run starts kept in memory before they move to the {@code runs} map: about 80 bytes of heap each,
   * about 250 for a subject with only one, so at most about 12 MB.
   */
  static final int TAIL_RUNS_LIMIT = 50_000;
  /** Positions appended since the last move that a restart after a crash would have to scan. */
  static final long TAIL_POSITIONS_LIMIT = 500_000;

  private final MVMap<Long, LogEntry> log;
  private final MVMap<MessageKey, Long> runs;
  private final MVMap<String, Long> meta;
  /** Run starts after {@link #indexedUpTo}: subject id to (first sequence to position). Written by the writer only. */
  private final Map<Long, ConcurrentSkipListMap<Long, Long>> tail = new ConcurrentHashMap<>();
  /** Writer thread only: how to undo the changes to {@link #tail} since the last commit. */
  private final Deque<Runnable> undo = new ArrayDeque<>();
  private long indexedUpTo;
  private long nextPosition;
  private int tailRuns;
  /** Set by {@link #beforeCommit} when the commit moves the tail into {@code runs}: the new indexed position. */
  private long movingUpTo = -1;

  private MessageLog(MVMap<Long, LogEntry> log, MVMap<MessageKey, Long> runs, MVMap<String, Long> meta) {
    this.log = log;
    this.runs = runs;
    this.meta = meta;
    this.indexedUpTo = meta.getOrDefault(INDEXED_UP_TO, 0L);
    resetPosition();
    recover();
  }

  static MessageLog open(MVStore store, MVMap<String, Long> meta) {
    return new MessageLog(
        store.openMap(LOG_MAP, new MVMap.Builder<Long, LogEntry>().keyType(LongDataType.INSTANCE)
            .valueType(LogEntry.Type.INSTANCE)),
        store.openMap(RUNS_MAP, new MVMap.Builder<MessageKey, Long>().keyType(MessageKey.Type.INSTANCE)
            .valueType(LongDataType.INSTANCE)),
        meta);
  }

  /** Rebuilds the run starts after the indexed position from the log entries themselves. */
  private void recover() {
    Cursor<Long, LogEntry> cursor = log.cursor(indexedUpTo + 1);
    long previousPosition = -1;
    LogEntry previous = null;
    while (cursor.hasNext()) {
      long position = cursor.next();
      LogEntry entry = cursor.getValue();
      if (!continues(previousPosition, previous, position, entry.subjectId(), entry.sequence())) {
        tail.computeIfAbsent(entry.subjectId(), id -> new ConcurrentSkipListMap<>()).put(entry.sequence(), position);
        tailRuns++;
      }
      previousPosition = position;
      previous = entry;
    }
  }

  private static boolean continues(long previousPosition, LogEntry previous, long position, long subjectId,
                                   long sequence) {
    return previous != null && previousPosition == position - 1 && previous.subjectId() == subjectId
        && previous.sequence() == sequence - 1;
  }

  private void resetPosition() {
    Long last = log.lastKey();
    // Never below the indexed position: a run starting there would be in neither index.
    nextPosition = Math.max(last == null ? 1 : last + 1, indexedUpTo + 1);
  }

  // ---- writer thread ------------------------------------------------------------------------

  /** Appends consecutive messages of one subject, in sequence order. */
  void append(long subjectId, List<StoreWrite.Append> appends) {
    long first = nextPosition;
    long firstSequence = appends.get(0).sequence();
    LogEntry before = first > 1 ? log.get(first - 1) : null;
    for (StoreWrite.Append append : appends) {
      log.put(nextPosition++, new LogEntry(subjectId, append.sequence(), append.timestampMs(), append.payload()));
    }
    if (!continues(first - 1, before, first, subjectId, firstSequence)) {
      putTail(subjectId, firstSequence, first);
    }
  }

  /** Appends one entry with its run start, if any, straight into {@code runs}: for the migration from layout 1. */
  void appendIndexed(LogEntry entry) {
    long position = nextPosition++;
    LogEntry before = position > 1 ? log.get(position - 1) : null;
    log.put(position, entry);
    if (!continues(position - 1, before, position, entry.subjectId(), entry.sequence())) {
      runs.put(new MessageKey(entry.subjectId(), entry.sequence()), position);
    }
  }

  /** Removes every message and run (before a migration fills the log anew). */
  void clear() {
    log.clear();
    runs.clear();
    tail.clear();
    tailRuns = 0;
    indexedUpTo = 0;
    meta.put(INDEXED_UP_TO, 0L);
    resetPosition();
  }

  /** Records that every run start so far is in {@code runs} (after the migration wrote them there). */
  void markIndexed() {
    indexedUpTo = nextPosition - 1;
    meta.put(INDEXED_UP_TO, indexedUpTo);
  }

  private void putTail(long subjectId, long sequence, long position) {
    ConcurrentSkipListMap<Long, Long> starts = tail.computeIfAbsent(subjectId, id -> new ConcurrentSkipListMap<>());
    starts.put(sequence, position);
    tailRuns++;
    undo.push(() -> {
      starts.remove(sequence);
      tailRuns--;
    });
  }

  private void removeTail(long subjectId, long sequence) {
    ConcurrentSkipListMap<Long, Long> starts = tail.get(subjectId);
    Long position = starts == null ? null : starts.remove(sequence);
    if (position != null) {
      tailRuns--;
      undo.push(() -> {
        starts.put(sequence, position);
        tailRuns++;
      });
    }
  }

  /**
   * Removes the subject's local messages with sequence {@code <= upTo}, run by run: where a run
   * continues past {@code upTo}, its new start is indexed before the old one goes.
   * @return the payload bytes removed
   */
  long removeUpTo(long subjectId, long upTo) {
    List<Map.Entry<Long, Long>> durable = new ArrayList<>();
    Cursor<MessageKey, Long> cursor = runs.cursor(new MessageKey(subjectId, 0));
    while (cursor.hasNext()) {
      MessageKey key = cursor.next();
      if (key.subjectId() != subjectId || key.sequence() > upTo) {
        break;
      }
      durable.add(Map.entry(key.sequence(), cursor.getValue()));
    }
    ConcurrentSkipListMap<Long, Long> starts = tail.get(subjectId);
    List<Map.Entry<Long, Long>> inMemory = starts == null ? List.of() : List.copyOf(starts.headMap(upTo, true).entrySet());
    long removedBytes = 0;
    for (Map.Entry<Long, Long> run : durable) {
      removedBytes += trim(subjectId, run.getKey(), run.getValue(), upTo, true);
    }
    for (Map.Entry<Long, Long> run : inMemory) {
      removedBytes += trim(subjectId, run.getKey(), run.getValue(), upTo, false);
    }
    return removedBytes;
  }

  private long trim(long subjectId, long first, long position, long upTo, boolean durable) {
    // One cursor walk to the run's end, not a lookup from the root per message: a work queue trims
    // every message it acknowledges, so this was half of a removal's cost.
    long end = position;
    Cursor<Long, LogEntry> cursor = log.cursor(position);
    for (long sequence = first; sequence <= upTo && cursor.hasNext(); sequence++, end++) {
      long at = cursor.next();
      LogEntry entry = cursor.getValue();
      if (at != end || entry.subjectId() != subjectId || entry.sequence() != sequence) {
        break;
      }
    }
    LogEntry next = log.get(end);
    if (next != null && next.subjectId() == subjectId && next.sequence() == first + (end - position)) {
      if (durable) {
        runs.put(new MessageKey(subjectId, next.sequence()), end);
      } else {
        putTail(subjectId, next.sequence(), end);
      }
    }
    long removedBytes = 0;
    for (long removing = position; removing < end; removing++) {
      removedBytes += log.remove(removing).payload().length;
    }
    if (durable) {
      runs.remove(new MessageKey(subjectId, first));
    } else {
      removeTail(subjectId, first);
    }
    return removedBytes;
  }

  /**
   * Called by the writer before each commit: when the in-memory tail is due (see the class comment)
   * or {@code force} (the store closes), writes it into {@code runs} and the new indexed position
   * into {@code meta}, to be committed with the group.
   */
  void beforeCommit(boolean force) {
    if (!force && tailRuns < TAIL_RUNS_LIMIT && nextPosition - 1 - indexedUpTo < TAIL_POSITIONS_LIMIT) {
      return;
    }
    tail.forEach((subjectId, starts) -> starts.forEach((sequence, position) ->
        runs.put(new MessageKey(subjectId, sequence), position)));
    movingUpTo = nextPosition - 1;
    meta.put(INDEXED_UP_TO, movingUpTo);
  }

  /** Called once the commit returned: the undo log is spent, and a moved tail is dropped from memory. */
  void afterCommit() {
    undo.clear();
    if (movingUpTo >= 0) {
      indexedUpTo = movingUpTo;
      movingUpTo = -1;
      tail.clear();
      tailRuns = 0;
    }
  }

  /** Called after the store rolled back to its last commit: the tail goes back with it. */
  void afterRollback() {
    while (!undo.isEmpty()) {
      undo.pop().run();
    }
    movingUpTo = -1;
    resetPosition();
  }

  // ---- any thread -----------------------------------------------------------------------------

  /**
   * The run start of {@code subjectId} with the greatest first sequence {@code <= sequence}: {first,
   * position}, or null. The in-memory tail is read before the {@code runs} map: a move puts the tail
   * into the map before it clears the tail, so a start is always in the one read second if it left
   * the one read first.
   */
  private long[] floor(long subjectId, long sequence) {
    ConcurrentSkipListMap<Long, Long> starts = tail.get(subjectId);
    Map.Entry<Long, Long> inMemory = starts == null ? null : starts.floorEntry(sequence);
    MessageKey key = runs.floorKey(new MessageKey(subjectId, sequence));
    long[] found = key == null || key.subjectId() != subjectId ? null : new long[] {key.sequence(), runs.get(key)};
    if (inMemory != null && (found == null || inMemory.getKey() > found[0])) {
      found = new long[] {inMemory.getKey(), inMemory.getValue()};
    }
    return found;
  }

  /** The run start of {@code subjectId} with the least first sequence {@code >= sequence}, read as {@link #floor}. */
  private long[] ceiling(long subjectId, long sequence) {
    ConcurrentSkipListMap<Long, Long> starts = tail.get(subjectId);
    Map.Entry<Long, Long> inMemory = starts == null ? null : starts.ceilingEntry(sequence);
    MessageKey key = runs.ceilingKey(new MessageKey(subjectId, sequence));
    long[] found = key == null || key.subjectId() != subjectId ? null : new long[] {key.sequence(), runs.get(key)};
    if (inMemory != null && (found == null || inMemory.getKey() < found[0])) {
      found = new long[] {inMemory.getKey(), inMemory.getValue()};
    }
    return found;
  }

  /** Messages held in the log (MVMap counts them in its pages, no scan). */
  long size() {
    return log.sizeAsLong();
  }

  /** See {@link MessageStore#read}. */
  List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
    List<StoredMessage> result = new ArrayList<>(Math.min(maxMessages, 256));
    long[] run = floor(subjectId, fromSequence);
    long expected = fromSequence;
    long position = run == null ? -1 : run[1] + fromSequence - run[0];
    if (run == null || !holds(position, subjectId, fromSequence)) {
      run = ceiling(subjectId, fromSequence + 1);
      expected = run == null ? 0 : run[0];
      position = run == null ? -1 : run[1];
    }
    long bytes = 0;
    while (run != null && result.size() < maxMessages && bytes < maxBytes) {
      Cursor<Long, LogEntry> entries = log.cursor(position);
      long next = position;
      while (result.size() < maxMessages && bytes < maxBytes && entries.hasNext()) {
        long at = entries.next();
        LogEntry entry = entries.getValue();
        if (at != next || entry.subjectId() != subjectId || entry.sequence() != expected) {
          break;
        }
        result.add(new StoredMessage(entry.sequence(), entry.timestampMs(), entry.payload()));
        bytes += entry.payload().length;
        next++;
        expected++;
      }
      // A run start whose message is gone (trimmed meanwhile) yields nothing: look past it.
      run = ceiling(subjectId, next == position ? expected + 1 : expected);
      if (run != null) {
        expected = run[0];
        position = run[1];
      }
    }
    return result;
  }

  private boolean holds(long position, long subjectId, long sequence) {
    LogEntry entry = log.get(position);
    return entry != null && entry.subjectId() == subjectId && entry.sequence() == sequence;
  }

  /**
   * See {@link MessageStore#firstSequenceAtOrAfter}: a binary search over sequences, each probe
   * reading the first local message at or after a sequence. The subject's last run can be no longer
   * than the log after its start, which bounds the search.
   */
  long firstSequenceAtOrAfter(long subjectId, long timestampMs) {
    List<StoredMessage> first = read(subjectId, 0, 1, Long.MAX_VALUE);
    long[] lastRun = floor(subjectId, Long.MAX_VALUE);
    Long lastPosition = log.lastKey();
    if (first.isEmpty() || lastRun == null || lastPosition == null) {
      return 0;
    }
    long low = first.get(0).sequence();
    long high = lastRun[0] + Math.max(0, lastPosition - lastRun[1]) + 1;
    while (low < high) {
      long middle = low + (high - low) / 2;
      List<StoredMessage> probe = read(subjectId, middle, 1, Long.MAX_VALUE);
      if (probe.isEmpty() || probe.get(0).timestampMs() >= timestampMs) {
        high = middle;
      } else {
        low = probe.get(0).sequence() + 1;
      }
    }
    List<StoredMessage> found = read(subjectId, low, 1, Long.MAX_VALUE);
    return found.isEmpty() || found.get(0).timestampMs() < timestampMs ? 0 : found.get(0).sequence();
  }
}
