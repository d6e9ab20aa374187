package io.dstream.broker.archive;

import io.dstream.broker.config.CompactionPolicy;

import java.util.List;

/**
 * Which adjacent segments of a manifest to merge next, so that a slow subject (one small segment
 * per checkpoint) keeps few objects and a replay from its start needs few downloads.
 *
 * <p>A segment's weight is the larger of its share of the message bound (10,000) and of the byte
 * bound ({@link CompactionPolicy#segmentBytes}); a segment weighing at most one half is small. Once
 * a manifest names {@link CompactionPolicy#minSegments} small segments, the merge is the longest
 * run of at most {@link CompactionPolicy#maxSegments} adjacent small segments whose sum stays within
 * both bounds and whose heaviest segment weighs no more than the others together (the earliest such
 * run if several are as long). That last rule means a merge at least doubles the weight of every
 * message's segment, so a message is rewritten at most log2(10,000), 14 times, however slowly its
 * subject grows: without it, a subject adding one message per checkpoint would rewrite its largest
 * small segment at every merge.
 *
 * <p>Stateless and thread-safe.
 */
final class Compaction {

  private final CompactionPolicy policy;

  Compaction(CompactionPolicy policy) {
    this.policy = policy;
  }

  /** The adjacent segments of {@code manifest} to merge now, in order, or an empty list if none. */
  List<Manifest.SegmentRef> nextRun(Manifest manifest) {
    List<Manifest.SegmentRef> segments = manifest.segments();
    int small = 0;
    for (Manifest.SegmentRef segment : segments) {
      if (small(segment)) {
        small++;
      }
    }
    if (small < policy.minSegments()) {
      return List.of();
    }
    int bestStart = 0;
    int bestLength = 0;
    for (int start = 0; start < segments.size(); start++) {
      long messages = 0;
      long bytes = 0;
      double heaviest = 0;
      double total = 0;
      for (int end = start; end < segments.size() && end - start < policy.maxSegments(); end++) {
        Manifest.SegmentRef segment = segments.get(end);
        messages += segment.messages();
        bytes += segment.bytes();
        if (!small(segment) || messages > SubjectArchive.SEGMENT_MAX_MESSAGES || bytes > policy.segmentBytes()) {
          break;
        }
        double weight = weight(segment);
        heaviest = Math.max(heaviest, weight);
        total += weight;
        int length = end - start + 1;
        if (length >= 2 && heaviest <= total - heaviest && length > bestLength) {
          bestStart = start;
          bestLength = length;
        }
      }
    }
    return bestLength == 0 ? List.of() : List.copyOf(segments.subList(bestStart, bestStart + bestLength));
  }

  private boolean small(Manifest.SegmentRef segment) {
    return weight(segment) <= 0.5;
  }

  private double weight(Manifest.SegmentRef segment) {
    return Math.max((double) segment.messages() / SubjectArchive.SEGMENT_MAX_MESSAGES,
        (double) segment.bytes() / policy.segmentBytes());
  }
}
