package io.dstream.broker.archive;

import io.dstream.broker.store.StoredMessage;
import io.vertx.core.Future;

import java.util.List;

/**
 * What a {@link SubjectArchive} needs of its subject: the actor's current numbers, reads of its
 * local store, and local eviction; or, while the subject hibernates, a {@link #detached} stand-in.
 */
public interface ArchiveHost {

  /** A subject's numbers at one moment. */
  record Snapshot(long firstSequence, long lastSequence, byte[] state, long stateRevision, long producerVersion,
                  long lastTimestampMs, byte[] attributes) {
  }

  /** Reads committed local messages of the subject (off the event loop). */
  @FunctionalInterface
  interface LocalReader {
    Future<List<StoredMessage>> read(long from, int maxMessages, long maxBytes);
  }

  /** First retained sequence, last durable sequence and state (with its revision) right now. */
  Snapshot snapshot();

  /** Committed local messages from {@code from} in order (read off the event loop). */
  Future<List<StoredMessage>> readLocal(long from, int maxMessages, long maxBytes);

  /** Removes checkpointed messages up to {@code upTo} from the local store as the hot window allows. */
  void evict(long upTo);

  /**
   * The host of a hibernated subject: its numbers as they were when its actor left (nothing was in
   * flight then, and nothing changes until an actor takes the archive back), reads from the store,
   * and no eviction (that waits until the subject is active again).
   */
  static ArchiveHost detached(Snapshot snapshot, LocalReader reader) {
    return new ArchiveHost() {
      @Override
      public Snapshot snapshot() {
        return snapshot;
      }

      @Override
      public Future<List<StoredMessage>> readLocal(long from, int maxMessages, long maxBytes) {
        return reader.read(from, maxMessages, maxBytes);
      }

      @Override
      public void evict(long upTo) {
      }
    };
  }
}
