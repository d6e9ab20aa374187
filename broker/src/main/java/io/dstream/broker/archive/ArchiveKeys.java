package io.dstream.broker.archive;

import java.util.UUID;

/**
 * Where the archive keeps things in the bucket. Everything lives under {@link #RESERVED_PREFIX},
 * which the file API refuses, so files and checkpoints never collide:
 * <pre>
 * _dstream/subjects/{subject}/manifest.json
 * _dstream/subjects/{subject}/segments/{first:020d}-{last:020d}-{uuid}.seg.zst
 * </pre>
 * Subjects contain no {@code /} (see {@link io.dstream.broker.stream.Subjects}), so the subject is
 * used as is. Zero-padded sequences make a listing come back in sequence order; the random part
 * makes every segment key unique, so a retried or repeated checkpoint never overwrites a segment
 * that a manifest already names. Segments written before zstd end in {@code .seg.gz}; manifests name
 * them by key and {@link Segment#decode} tells the two formats apart by their first bytes.
 */
public final class ArchiveKeys {

  /** Keys of the broker's own objects; not reachable through the file API. */
  public static final String RESERVED_PREFIX = "_dstream/";
  /**
   * A key that sorts after every key the archive writes (they continue with a lowercase ASCII
   * letter) and before any other key outside the prefix: listings skip the archive from here.
   */
  public static final String AFTER_RESERVED = RESERVED_PREFIX + "\u007f";

  private ArchiveKeys() {
  }

  /** Where every subject's checkpoints live. */
  public static final String SUBJECTS_PREFIX = RESERVED_PREFIX + "subjects/";

  public static String subjectPrefix(String subject) {
    return SUBJECTS_PREFIX + subject + "/";
  }

  /** Where the subject's segments live: every key under it is a segment, named by a manifest or an orphan. */
  public static String segmentsPrefix(String subject) {
    return subjectPrefix(subject) + "segments/";
  }

  public static String manifest(String subject) {
    return subjectPrefix(subject) + "manifest.json";
  }

  public static String newSegment(String subject, long firstSequence, long lastSequence) {
    return String.format("%s%020d-%020d-%s.seg.zst", segmentsPrefix(subject), firstSequence, lastSequence,
        UUID.randomUUID());
  }
}
