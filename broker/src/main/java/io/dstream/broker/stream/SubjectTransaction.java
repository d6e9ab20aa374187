package io.dstream.broker.stream;

import java.util.function.LongFunction;

/**
 * What a {@link SubjectStep} sees of its subject and may write: the one append path of every view
 * and the subject's idempotency rules. Valid only while the step runs. The numbers include writes
 * queued but not yet durable, so consecutive steps build on each other.
 *
 * <p>Idempotency, one model with two rules, both checked before anything is assigned: a
 * <em>dedup key</em> ({@link #appendOnce}) names one append within the dedup window (protocol v1's
 * {@code clientId}+{@code cMsgId}), and a <em>producer version</em> ({@link #fence}) shuts out
 * older producers (the records API's {@code ?version=}). Protocol-specific producer rules (Durable
 * Streams' epoch and sequence per producer id) live in the view's attributes, which the step reads
 * and writes in the same transaction.
 */
public interface SubjectTransaction {

  /** Last assigned sequence (0 when the subject never had a message). */
  long lastSequence();

  /**
   * The dedup key the last message was appended under (see {@link #appendOnce}), while the dedup
   * window remembers it; null otherwise.
   */
  String lastDedupKey();

  /** The producer version as of the last queued write. */
  long producerVersion();

  /** The view attributes as of the last queued write (empty when no view claimed the subject). */
  byte[] attributes();

  /** Queues a message with payload bytes; returns its sequence. */
  long append(byte[] payload);

  /** Queues the message {@code render} makes for its sequence (the v1 stored object holds it). */
  Published append(LongFunction<byte[]> render);

  /**
   * As {@link #append(LongFunction)}, at most once per {@code dedupKey} within the dedup window: a
   * repeat stores nothing and returns the original, {@link Published#duplicate() flagged}, rendered
   * again for its sequence. A null key appends unconditionally.
   */
  Published appendOnce(String dedupKey, LongFunction<byte[]> render);

  /**
   * Checks a producer version against the one assigned so far: lower throws
   * {@link StreamError#fenced}; higher is stored with this step's writes; equal passes.
   */
  void fence(long version);

  /** Queues new view attributes. */
  void putAttributes(byte[] attributes);

  /** A state revision that is not checked ({@link #putState(byte[], long)}). */
  long ANY_REVISION = -1;

  /** The state revision as of the last queued write (0 while the state was never set). */
  long stateRevision();

  /** Queues a new state object (UTF-8 JSON of an object); returns its revision, one more than the last. */
  long putState(byte[] stateJson);

  /**
   * As {@link #putState(byte[])} if the state is at {@code expectedRevision} (optimistic concurrency,
   * checked against the queued writes before it); otherwise throws {@link StreamError#wrongRevision}
   * and queues nothing. {@link #ANY_REVISION} skips the check.
   */
  long putState(byte[] stateJson, long expectedRevision);

  /** Queues the deletion of retained messages up to {@code upTo} (capped at the last sequence). */
  void deleteUpTo(long upTo);
}
