package io.dstream.broker.store;

import java.util.List;
import java.util.Map;

/**
 * The storage contract: each subject has a {@link SubjectRecord} and messages by sequence. The store
 * owns bytes; the stream actor owns the rules (who may write, which sequence comes next, who gets
 * what). Implementations: {@link MvMessageStore} (H2, the system of record) and
 * {@link InMemoryMessageStore}; {@code MessageStoreContract} runs the same tests on both.
 *
 * <p>Threading: {@link #open}, {@link #find}, {@link #subjects}, {@link #size}, {@link #read} and
 * {@link #firstSequenceAtOrAfter} may be called from any thread. {@link #apply}, {@link #commit},
 * {@link #sync}, {@link #rollback} and {@link #compact} are called by one thread, the
 * {@link GroupCommitWriter}'s (in cluster mode, the replica writer's). Applied writes are readable
 * once {@link #apply} returns, until a {@link #rollback} takes them back; they survive a restart once
 * {@link #commit} returned, and an OS crash once a later {@link #sync} returned.
 */
public interface MessageStore extends AutoCloseable {

  /** The subject's applied record, creating an empty one (last sequence 0) on first use. */
  SubjectRecord open(String subject);

  /** The applied record of an existing subject, or null; never creates one. */
  SubjectRecord find(String subject);

  /** Up to {@code limit} subjects whose name sorts after {@code after} (null: from the first), in name order (UTF-16). */
  List<Map.Entry<String, SubjectRecord>> subjects(String after, int limit);

  /** How much the store holds, counted without a scan. */
  StoreSize size();

  /**
   * Up to {@code maxMessages} retained local messages with sequence {@code >= fromSequence} in order,
   * stopping once {@code maxBytes} payload bytes are collected (at least one if any exists).
   */
  List<StoredMessage> read(long subjectId, long fromSequence, int maxMessages, long maxBytes);

  /** The first local sequence whose publish time is {@code >= timestampMs}, or 0 (publish times never decrease). */
  long firstSequenceAtOrAfter(long subjectId, long timestampMs);

  /**
   * Applies the writes of every subject of one group commit, in order; returns each subject's
   * record after its writes (an absent subject, id 0, after a destroy). A refused write throws
   * {@link StoreException} and leaves the group to {@link #rollback}.
   */
  List<SubjectRecord> apply(List<SubjectWrites> group);

  /** Makes everything applied so far survive a restart of the broker process (written to the OS). */
  void commit();

  /** Forces what was committed to the disk, so that it survives an OS crash or power loss. */
  void sync();

  /** Drops everything applied since the last commit. */
  void rollback();

  /** Rewrites sparse storage between groups; commits and forces what it moved (never an applied write). */
  void compact();

  /** Drops writes applied since the last commit, commits what else changed (subjects opened), forces, releases the store. */
  @Override
  void close();
}
