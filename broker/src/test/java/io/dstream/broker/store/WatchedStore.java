package io.dstream.broker.store;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A real store, watched through the store interface: every call of the writer's lifecycle is
 * written to {@link #events} in order, commits and forces are counted, and a test can hold the
 * writer inside {@link #apply} or {@link #sync} (to see what happens meanwhile) or make commits fail
 * like a full disk. It delegates everything, so the writer under test writes a real file. Public for
 * the cluster's replica writer, which writes the store through the same interface.
 */
public final class WatchedStore implements MessageStore {

  final MessageStore real;
  public final ConcurrentLinkedQueue<String> events = new ConcurrentLinkedQueue<>();
  public final AtomicLong commits = new AtomicLong();
  /** The number of commits that had returned when the last force returned: what is on the disk. */
  final AtomicLong forcedCommits = new AtomicLong();
  final AtomicLong syncs = new AtomicLong();
  /** "subject#sequence" of every applied append, to the number of the commit that holds it. */
  final Map<String, Long> appliedInCommit = new ConcurrentHashMap<>();
  volatile boolean failCommits;
  /** How many of the next commits fail like a full disk, before anything reaches the file. */
  public final AtomicInteger failingCommits = new AtomicInteger();
  volatile CountDownLatch syncEntered = new CountDownLatch(1);
  volatile CountDownLatch applyEntered = new CountDownLatch(1);
  private volatile CountDownLatch syncGate;
  private volatile CountDownLatch applyGate;

  public WatchedStore(MessageStore real) {
    this.real = real;
  }

  /** The next {@link #sync} (and every one after it) waits until {@link #releaseSync}. */
  void holdSync() {
    syncGate = new CountDownLatch(1);
  }

  void releaseSync() {
    syncGate.countDown();
  }

  /** The next {@link #apply} (and every one after it) waits until {@link #releaseApply}. */
  void holdApply() {
    applyGate = new CountDownLatch(1);
  }

  void releaseApply() {
    applyGate.countDown();
  }

  @Override
  public SubjectRecord open(String subject) {
    return real.open(subject);
  }

  @Override
  public SubjectRecord find(String subject) {
    return real.find(subject);
  }

  @Override
  public List<Map.Entry<String, SubjectRecord>> subjects(String after, int limit) {
    return real.subjects(after, limit);
  }

  @Override
  public StoreSize size() {
    return real.size();
  }

  @Override
  public List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes) {
    return real.read(subjectId, fromSequence, maxMessages, maxBytes);
  }

  @Override
  public long firstSequenceAtOrAfter(long subjectId, long timestampMs) {
    return real.firstSequenceAtOrAfter(subjectId, timestampMs);
  }

  @Override
  public List<SubjectRecord> apply(List<SubjectWrites> group) {
    applyEntered.countDown();
    await(applyGate);
    events.add("apply " + group.size());
    for (SubjectWrites writes : group) {
      for (StoreWrite write : writes.writes()) {
        if (write instanceof StoreWrite.Append append) {
          appliedInCommit.put(writes.subject() + "#" + append.sequence(), commits.get() + 1);
        }
      }
    }
    return real.apply(group);
  }

  @Override
  public void commit() {
    if (failCommits || failingCommits.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
      throw new IllegalStateException("No space left on device");
    }
    real.commit();
    events.add("commit");
    commits.incrementAndGet();
  }

  @Override
  public void sync() {
    long committed = commits.get();
    syncEntered.countDown();
    await(syncGate);
    real.sync();
    events.add("sync");
    syncs.incrementAndGet();
    forcedCommits.set(committed);
  }

  @Override
  public void rollback() {
    events.add("rollback");
    real.rollback();
  }

  @Override
  public void compact() {
    real.compact();
  }

  @Override
  public void close() {
    real.close();
  }

  private static void await(CountDownLatch gate) {
    if (gate == null) {
      return;
    }
    try {
      if (!gate.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("a test held the writer for 30 s");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
