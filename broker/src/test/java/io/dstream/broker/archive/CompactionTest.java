package io.dstream.broker.archive;

import io.dstream.broker.config.CompactionPolicy;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Which segments {@link Compaction} merges, applied to manifests as the archive applies its merges. */
class CompactionTest {

  private static final Logger LOG = LoggerFactory.getLogger(CompactionTest.class);
  private static final CompactionPolicy POLICY = new CompactionPolicy(8, 32, 8L << 20, 1000);

  private static Manifest.SegmentRef segment(long first, long last, long bytes) {
    return new Manifest.SegmentRef("k/" + first + "-" + last, first, last, first, last, last - first + 1, bytes);
  }

  private static Manifest manifest(List<Manifest.SegmentRef> segments) {
    long last = segments.isEmpty() ? 0 : segments.get(segments.size() - 1).lastSequence();
    return new Manifest("s", 1, last, "{}", 0, 0, 0, new byte[0], 0, segments);
  }

  /** Merges as long as the policy finds a run, counting how often each sequence is rewritten. */
  private static Manifest compact(Manifest manifest, Compaction compaction, Map<Long, Integer> rewrites) {
    for (List<Manifest.SegmentRef> run = compaction.nextRun(manifest); !run.isEmpty(); run = compaction.nextRun(manifest)) {
      Manifest.SegmentRef first = run.get(0);
      Manifest.SegmentRef last = run.get(run.size() - 1);
      long messages = run.stream().mapToLong(Manifest.SegmentRef::messages).sum();
      long bytes = run.stream().mapToLong(Manifest.SegmentRef::bytes).sum();
      assertTrue(messages <= SubjectArchive.SEGMENT_MAX_MESSAGES && bytes <= POLICY.segmentBytes(), run.toString());
      assertTrue(run.size() >= 2 && run.size() <= POLICY.maxSegments(), run.toString());
      for (long sequence = first.firstSequence(); sequence <= last.lastSequence(); sequence++) {
        rewrites.merge(sequence, 1, Integer::sum);
      }
      manifest = manifest.replacing(run, segment(first.firstSequence(), last.lastSequence(), bytes));
    }
    return manifest;
  }

  @Test
  void aSubjectGrowingByOneMessagePerCheckpointKeepsFewSegmentsAndRewritesEachMessageFewTimes() {
    Compaction compaction = new Compaction(POLICY);
    Map<Long, Integer> rewrites = new HashMap<>();
    Manifest manifest = manifest(List.of());
    int mostSegments = 0;
    for (long sequence = 1; sequence <= 3_000; sequence++) {
      List<Manifest.SegmentRef> segments = new ArrayList<>(manifest.segments());
      segments.add(segment(sequence, sequence, 150));
      manifest = compact(manifest(segments), compaction, rewrites);
      // A row in which each segment outweighs all later ones together merges nothing: at most
      // log2 of the message bound long, it stays until the next small segments complete a run.
      assertTrue(manifest.segments().size() <= 14, "after " + sequence + ": " + manifest.segments());
      mostSegments = Math.max(mostSegments, manifest.segments().size());
    }
    long covered = manifest.segments().stream().mapToLong(Manifest.SegmentRef::messages).sum();
    assertEquals(3_000, covered);
    int most = rewrites.values().stream().mapToInt(Integer::intValue).max().orElse(0);
    assertTrue(most <= 14, "a message rewritten " + most + " times");
    LOG.info("3,000 one-message checkpoints: at most {} segments, a message rewritten at most {} times, {} segments at the end",
        mostSegments, most, manifest.segments().size());
  }

  @Test
  void belowTheThresholdNothingMerges() {
    List<Manifest.SegmentRef> segments = new ArrayList<>();
    for (long sequence = 1; sequence < POLICY.minSegments(); sequence++) {
      segments.add(segment(sequence, sequence, 100));
    }
    assertEquals(List.of(), new Compaction(POLICY).nextRun(manifest(segments)));
  }

  @Test
  void largeSegmentsStayAndRunsNeverExceedTheByteBound() {
    List<Manifest.SegmentRef> segments = new ArrayList<>();
    long sequence = 1;
    // A segment over half the byte bound, then ten of 1.5 MiB: at most five fit in 8 MiB.
    segments.add(segment(sequence, sequence + 99, 5L << 20));
    sequence += 100;
    for (int i = 0; i < 10; i++) {
      segments.add(segment(sequence, sequence + 9, 3L << 19));
      sequence += 10;
    }
    List<Manifest.SegmentRef> run = new Compaction(POLICY).nextRun(manifest(segments));
    assertEquals(segments.subList(1, 6), run);
  }

  @Test
  void aRunNeverPairsAHeavySegmentWithMuchLighterOnes() {
    List<Manifest.SegmentRef> segments = new ArrayList<>();
    segments.add(segment(1, 1_000, 1_000));
    for (long sequence = 1_001; sequence <= 1_008; sequence++) {
      segments.add(segment(sequence, sequence, 100));
    }
    // Merging the 1,000-message segment with 8 single messages would rewrite it for almost nothing.
    assertEquals(segments.subList(1, 9), new Compaction(POLICY).nextRun(manifest(segments)));
  }
}
