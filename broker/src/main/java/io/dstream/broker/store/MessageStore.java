package io.dstream.broker.store;

import java.util.List;
import java.util.Map;

/**
 * The storage contract: messages by (subject, sequence), a state object and the sequence bounds
 * per subject. The store owns bytes; the stream actor owns the rules (who may write, which
 * sequence comes next, who gets what).
 *
 * <p>Threading: {@link #open} and {@link #read} may be called from any thread. Writes
 * ({@link #append}, {@link #putState}, {@link #deleteUpTo}), {@link #record}, {@link #commit},
 * {@link #rollback} and {@link #compact} are called by exactly one thread, the
 * {@link GroupCommitWriter}. Writes are invisible to a restart until {@link #commit} returns.
 */
public interface MessageStore extends AutoCloseable {

  /** Returns the subject's record, creating an empty one (last sequence 0) on first use. */
  SubjectRecord open(String subject);

  /**
   * Appends a message. {@code sequence} must be the subject's last sequence + 1: the store
   * refuses a gap or a repeat with {@link StoreException}.
   */
  void append(String subject, long sequence, long timestampMs, byte[] payload);

  /** Replaces the subject's state object (UTF-8 JSON). */
  void putState(String subject, byte[] stateJson);

  /**
   * Deletes retained messages with sequence {@code <= upTo}. The last sequence never moves back.
   * @return the record after the deletion
   */
  SubjectRecord deleteUpTo(String subject, long upTo);

  /** The committed record of an existing subject, or null; never creates one. May be called from any thread. */
  SubjectRecord find(String subject);

  /**
   * Up to {@code limit} subjects whose name sorts after {@code after} (null: from the first), in
   * name order (UTF-16), with their committed records. May be called from any thread.
   */
  List<Map.Entry<String, SubjectRecord>> subjects(String after, int limit);

  /** The record including uncommitted writes of the writer thread. */
  SubjectRecord record(String subject);

  /**
   * Reads up to {@code maxMessages} messages with sequence {@code >= fromSequence} in order,
   * stopping once {@code maxBytes} payload bytes are collected (at least one message is returned if any exists).
   */
  List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes);

  /**
   * The time-to-sequence lookup: the first sequence in {@code [from, to]} published at or after
   * {@code timestampMs}, or {@code to + 1} if none was. A binary search over sequences, valid because
   * an actor assigns timestamps that never decrease along its sequences; a deleted sequence counts as
   * its next retained one. May be called from any thread.
   */
  default long firstSequenceAtOrAfter(long subjectId, long timestampMs, long from, long to) {
    long low = from;
    long high = to + 1;
    while (low < high) {
      long middle = low + (high - low) / 2;
      List<StoredMessage> found = read(subjectId, middle, 1, 1);
      if (found.isEmpty() || found.get(0).sequence() > to || found.get(0).timestampMs() >= timestampMs) {
        high = middle;
      } else {
        low = found.get(0).sequence() + 1;
      }
    }
    return low;
  }

  /** Makes every write so far survive a restart, forcing the file when {@code mode} is {@link SyncMode#ALWAYS}. */
  void commit(SyncMode mode);

  /** Drops every write since the last commit. */
  void rollback();

  /** Rewrites sparse file chunks; called when the writer is idle. */
  void compact();

  @Override
  void close();
}
