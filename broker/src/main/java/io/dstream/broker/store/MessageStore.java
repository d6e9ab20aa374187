package io.dstream.broker.store;

import java.util.List;
import java.util.Map;

/**
 * The storage contract: messages by (subject, sequence), a state object and the sequence bounds
 * per subject. The store owns bytes; the stream actor owns the rules (who may write, which
 * sequence comes next, who gets what).
 *
 * <p>Threading: {@link #open}, {@link #read} and {@link #firstSequenceAtOrAfter} may be called from
 * any thread. Writes ({@link #append}, {@link #putState}, {@link #deleteUpTo},
 * {@link #setProducerVersion}, {@link #destroy}), {@link #record}, {@link #commit},
 * {@link #syncIfDue}, {@link #rollback} and {@link #compact} are called by exactly one thread, the
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

  /** Replaces the subject's view attributes (opaque bytes of a protocol view). */
  void putAttributes(String subject, byte[] attributes);

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

  /** How much the store holds; counted by the maps themselves (no scan). May be called from any thread. */
  StoreSize size();

  /**
   * Removes checkpointed messages from the local store as {@link StoreWrite.Evict} describes, at
   * most {@code maxMessages} per call; {@code firstSequence}, {@code lastSequence} and
   * {@code messages} stay, {@code bytes} drops by the removed payloads.
   * @return how many messages were removed
   */
  int evict(String subject, StoreWrite.Evict evict, int maxMessages);

  /**
   * Rebuilds a subject that has no local messages and last sequence 0 from its checkpoint: the
   * given sequences (their messages stay in the archive) and state. Refused with
   * {@link StoreException} if the subject already has a sequence.
   */
  void restore(String subject, StoreWrite.Restore restore);

  /** Sets the subject's records API producer version (fencing token). */
  void setProducerVersion(String subject, long version);

  /**
   * Removes the subject: its messages, state and record. A later write to the subject starts a
   * new one (new id, sequences from 1).
   */
  void destroy(String subject);

  /**
   * The record including uncommitted writes of the writer thread; for a subject without a record
   * (destroyed) an empty one with id 0.
   */
  SubjectRecord record(String subject);

  /**
   * The first retained sequence whose publish time is {@code >= timestampMs}, or 0 if there is none.
   * Publish times are non-decreasing per subject, so this is a binary search, not a scan.
   */
  long firstSequenceAtOrAfter(long subjectId, long timestampMs);

  /**
   * Reads up to {@code maxMessages} messages with sequence {@code >= fromSequence} in order,
   * stopping once {@code maxBytes} payload bytes are collected (at least one message is returned if any exists).
   */
  List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes);

  /**
   * Makes every write so far survive a restart of the broker process; with {@link SyncMode#ALWAYS}
   * also forces the file before returning, so they survive power loss.
   */
  void commit();

  /**
   * With {@link SyncMode#OS}, forces the file if commits since the last force are older than the sync
   * interval; nothing otherwise. Called by the writer thread when it is idle, so that an OS crash
   * loses at most one interval of acknowledged writes even when nothing else is written.
   */
  void syncIfDue();

  /** When a commit counts as done: see {@link #commit}. */
  SyncMode syncMode();

  /** Drops every write since the last commit. */
  void rollback();

  /** Rewrites sparse file chunks; called when the writer is idle. */
  void compact();

  @Override
  void close();
}
