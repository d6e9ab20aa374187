package io.dstream.broker.archive;

/**
 * A segment a manifest named is not in the bucket: a merge or a deletion replaced it after the
 * reader looked it up, so the reader looks again in the current manifest.
 */
final class MissingSegmentException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  MissingSegmentException(Manifest.SegmentRef ref) {
    super("segment " + ref.key() + " named by the manifest is missing");
  }
}
