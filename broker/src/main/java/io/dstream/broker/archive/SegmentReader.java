package io.dstream.broker.archive;

import io.dstream.broker.store.StoredMessage;
import io.vertx.core.Future;

import java.util.List;
import java.util.function.Supplier;

/**
 * One subject's reads of messages that live only in segments: finds the segment holding a sequence
 * in the subject's current manifest and keeps the last one read decoded, so a replay downloads each
 * segment once (at most one segment, 10,000 messages or 8 MiB of payload, per subject).
 *
 * <p>A segment can leave the bucket while a read of it is on its way (a merge replaced it, or a
 * checkpoint dropped it below the first retained sequence): the read then looks the sequence up
 * again in the manifest as it is now, which names the merged segment instead.
 *
 * <p>Threading: owned by the subject's {@link SubjectArchive}, called on its actor's context.
 */
final class SegmentReader {

  private final Archive archive;
  /** The subject's manifest as its archive knows it now; never null when a read is asked. */
  private final Supplier<Manifest> manifest;
  private Manifest.SegmentRef cachedRef;
  private List<StoredMessage> cachedMessages;
  /** Whether the cached segment was used since the last tick; an unused one is dropped. */
  private boolean cacheUsed;

  SegmentReader(Archive archive, Supplier<Manifest> manifest) {
    this.archive = archive;
    this.manifest = manifest;
  }

  /** Drops the cached segment if it was not used since the previous tick. */
  void tick() {
    if (!cacheUsed) {
      clear();
    }
    cacheUsed = false;
  }

  void clear() {
    cachedRef = null;
    cachedMessages = null;
  }

  /**
   * Messages from {@code from} (inclusive) out of the segment holding it, at most {@code maxMessages};
   * empty if no segment holds it.
   */
  Future<List<StoredMessage>> read(long from, int maxMessages) {
    Manifest.SegmentRef ref = manifest.get().segmentContaining(from);
    if (ref == null) {
      return Future.succeededFuture(List.of());
    }
    cacheUsed = true;
    Future<List<StoredMessage>> messages = ref.equals(cachedRef) ? Future.succeededFuture(cachedMessages)
        : archive.read(ref).onSuccess(read -> {
          cachedRef = ref;
          cachedMessages = read;
        });
    return messages.transform(ar -> {
      if (ar.failed()) {
        return ar.cause() instanceof MissingSegmentException && !manifest.get().segments().contains(ref)
            ? read(from, maxMessages) : Future.failedFuture(ar.cause());
      }
      List<StoredMessage> all = ar.result();
      int start = (int) (from - all.get(0).sequence());
      return Future.succeededFuture(all.subList(start, Math.min(all.size(), start + maxMessages)));
    });
  }

  /**
   * The first message at or after {@code timestampMs} with sequence {@code >= firstSequence} in the
   * segments (by their time bounds, then in the one segment that can hold it), or {@code local}
   * (the local store's answer, 0 = none) when the segments have no such message. Checkpointed
   * messages precede the ones only held locally, so a match in the segments is the answer.
   */
  Future<Long> firstSequenceAt(long timestampMs, long firstSequence, long local) {
    for (Manifest.SegmentRef ref : manifest.get().segments()) {
      if (ref.lastSequence() < firstSequence || ref.lastTimestamp() < timestampMs) {
        continue;
      }
      if (local != 0 && ref.firstSequence() >= local) {
        return Future.succeededFuture(local);
      }
      long from = Math.max(firstSequence, ref.firstSequence());
      return read(from, SubjectArchive.SEGMENT_MAX_MESSAGES).map(messages -> {
        for (StoredMessage message : messages) {
          if (message.timestampMs() >= timestampMs) {
            return message.sequence();
          }
        }
        return local;
      });
    }
    return Future.succeededFuture(local);
  }
}
