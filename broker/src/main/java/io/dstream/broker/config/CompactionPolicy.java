package io.dstream.broker.config;

/**
 * How the archive keeps a subject's segments few (docs/consumers-and-retention.md, bucket deletion
 * and compaction): when adjacent small segments are merged, how large a merge may be, and how much
 * of a subject's segment listing one orphan sweep step reads.
 *
 * @param minSegments  a subject's segments are compacted once its manifest names at least this many
 *                     small ones (at most half the segment bound each)
 * @param maxSegments  segments one merge downloads at most (the work of one compaction step)
 * @param segmentBytes payload bytes of a merged segment at most (and at most 10,000 messages); also
 *                     what a replay holds decoded per subject, so at most 8 MiB
 * @param sweepKeys    segment keys one orphan sweep step lists (one listing request), at most 1000
 */
public record CompactionPolicy(int minSegments, int maxSegments, long segmentBytes, int sweepKeys) {

  /** The segment bound of checkpoints, which merged segments keep too. */
  public static final long MAX_SEGMENT_BYTES = 8L * 1024 * 1024;
  /** S3 answers at most this many keys per listing request. */
  public static final int MAX_SWEEP_KEYS = 1000;

  public static final CompactionPolicy DEFAULT = new CompactionPolicy(8, 32, MAX_SEGMENT_BYTES, MAX_SWEEP_KEYS);

  public CompactionPolicy {
    if (minSegments < 2) {
      throw new IllegalArgumentException("compaction needs at least 2 segments to merge, got minSegments " + minSegments);
    }
    if (maxSegments < 2) {
      throw new IllegalArgumentException("a merge reads at least 2 segments, got maxSegments " + maxSegments);
    }
    if (segmentBytes < 1 || segmentBytes > MAX_SEGMENT_BYTES) {
      throw new IllegalArgumentException("segmentBytes must be 1.." + MAX_SEGMENT_BYTES + ", got " + segmentBytes);
    }
    if (sweepKeys < 1 || sweepKeys > MAX_SWEEP_KEYS) {
      throw new IllegalArgumentException("sweepKeys must be 1.." + MAX_SWEEP_KEYS + ", got " + sweepKeys);
    }
  }
}
