package io.dstream.broker.archive;

import java.util.UUID;

/**
 * Where the archive keeps things in the bucket. Everything lives under {@link #RESERVED_PREFIX},
 * which the file API refuses, so files and checkpoints never collide:
 * <pre>
 * _dstream/subjects/{subject}/manifest.json                              a single node's
 * _dstream/subjects/{subject}/manifests/{term:020d}.json                  a cluster leader's, by its term
 * _dstream/subjects/{subject}/segments/{first:020d}-{last:020d}-{uuid}.seg.zst
 * _dstream/subjects/{subject}/segments/{first:020d}-{last:020d}-t{term}-{uuid}.seg.zst
 * </pre>
 * In cluster mode the leader of a subject's partition checkpoints it under its Raft term, and the
 * term is part of the keys it writes: a reader takes the manifest of the highest term, so a deposed
 * leader's late write can never replace a newer leader's manifest, and an orphan sweep leaves alone
 * the segments of a newer term (uploaded, not yet named). See docs/cluster.md.
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

  /** The manifest a checkpoint under {@code term} writes: a single node's (term 0) or a cluster term's. */
  public static String manifest(String subject, long term) {
    return term == 0 ? subjectPrefix(subject) + "manifest.json" : String.format("%s%020d.json", manifestsPrefix(subject), term);
  }

  /** Where a cluster's manifests of the subject live, one per term that checkpointed it. */
  public static String manifestsPrefix(String subject) {
    return subjectPrefix(subject) + "manifests/";
  }

  /** The term of a manifest key under {@link #manifestsPrefix}, or -1 if the key is not one. */
  static long manifestTerm(String key) {
    int slash = key.lastIndexOf('/');
    String name = key.substring(slash + 1);
    if (!name.endsWith(".json")) {
      return -1;
    }
    try {
      return Long.parseLong(name.substring(0, name.length() - ".json".length()));
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  public static String newSegment(String subject, long firstSequence, long lastSequence, long term) {
    String termPart = term == 0 ? "" : "t" + term + "-";
    return String.format("%s%020d-%020d-%s%s.seg.zst", segmentsPrefix(subject), firstSequence, lastSequence, termPart,
        UUID.randomUUID());
  }

  /** The term a segment key was written under (0: a single node's, or written before terms). */
  static long segmentTerm(String key) {
    String name = key.substring(key.lastIndexOf('/') + 1);
    int third = name.indexOf('-', name.indexOf('-') + 1) + 1;
    if (third == 0 || third >= name.length() || name.charAt(third) != 't') {
      return 0;
    }
    int end = name.indexOf('-', third);
    try {
      return end < 0 ? 0 : Long.parseLong(name.substring(third + 1, end));
    } catch (NumberFormatException e) {
      return 0;
    }
  }
}
