package io.dstream.broker.config;

/**
 * When the writer stops collecting appends and commits them (BookKeeper's journal rule):
 * <ol>
 *   <li>the queue is empty, and the oldest collected batch has waited at least {@code maxDelayMicros}
 *       (0, the default, means commit as soon as the queue is drained: under load the batch grows by
 *       itself while the previous fsync runs, so latency stays one fsync when idle);</li>
 *   <li>{@code maxMessages} appends are collected;</li>
 *   <li>{@code maxBytes} payload bytes are collected.</li>
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
