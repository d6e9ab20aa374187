package io.dstream.broker.archive;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Whether a subject's snapshot holds a change its manifest does not cover: other sequences,
 * producer version, state revision, attributes or state. The state is compared as text, and the
 * text of the last state seen is kept, so the same state is decoded once, not at every comparison.
 *
 * <p>Threading: owned by one {@link SubjectArchive}, on its actor's context.
 */
final class SnapshotComparison {

  private byte[] comparedState;
  private String comparedStateText;

  boolean changed(ArchiveHost.Snapshot snapshot, Manifest manifest) {
    if (snapshot.lastSequence() != manifest.lastSequence()) {
      return true;
    }
    // The first sequence counts also when nothing is retained: a deletion of every message must
    // still drop the segments that hold them.
    if (snapshot.firstSequence() != manifest.firstSequence()
        || snapshot.producerVersion() != manifest.producerVersion()
        || snapshot.stateRevision() != manifest.stateRevision()
        || !Arrays.equals(snapshot.attributes(), manifest.attributes())) {
      return true;
    }
    // By content: a snapshot may carry a fresh copy of the same state on every tick, and decoding it
    // each time was 7 % of the event loops' time while a crowd of new subjects waited for checkpoints.
    if (!Arrays.equals(snapshot.state(), comparedState)) {
      comparedState = snapshot.state();
      comparedStateText = new String(snapshot.state(), StandardCharsets.UTF_8);
    }
    return !comparedStateText.equals(manifest.state());
  }
}
