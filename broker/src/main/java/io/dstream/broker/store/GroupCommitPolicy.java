package io.dstream.broker.store;

/**
 * When the writer stops collecting batches and commits them (BookKeeper's journal rule), checked in
 * this order after every batch it takes:
 * <ol>
 *   <li>{@code maxMessages} writes are collected ({@link GroupCommitWriter.FlushReason#MAX_MESSAGES});</li>
 *   <li>{@code maxBytes} payload bytes are collected ({@link GroupCommitWriter.FlushReason#MAX_BYTES});</li>
 *   <li>with {@code maxDelayMicros > 0}: the first batch of the group has waited that long
 *       ({@link GroupCommitWriter.FlushReason#MAX_DELAY}); until then an empty queue is waited on;</li>
 *   <li>with {@code maxDelayMicros == 0} (the default): the queue is empty
 *       ({@link GroupCommitWriter.FlushReason#QUEUE_EMPTY}). Under load the group grows by itself
 *       while the previous commit and its force run, so an idle publish waits for exactly one commit.</li>
 * </ol>
 */
public record GroupCommitPolicy(int maxMessages, int maxBytes, long maxDelayMicros) {

  public static final GroupCommitPolicy DEFAULT = new GroupCommitPolicy(10_000, 8 * 1024 * 1024, 0);

  public GroupCommitPolicy {
    if (maxMessages <= 0 || maxBytes <= 0 || maxDelayMicros < 0) {
      throw new IllegalArgumentException("group commit: maxMessages and maxBytes must be > 0, maxDelayMicros >= 0");
    }
  }
}
