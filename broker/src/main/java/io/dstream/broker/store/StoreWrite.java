package io.dstream.broker.store;

import java.util.Map;

/** One write of a subject, applied by {@link MessageStore#apply} in order. */
public sealed interface StoreWrite {

  /** Bounds one {@link Evict} so that it cannot hold up a group commit; the rest goes with the next one. */
  int MAX_EVICTIONS_PER_WRITE = 10_000;

  /** Payload bytes this write adds, for the group-commit byte threshold. */
  int bytes();

  /**
   * A message at its (already assigned) sequence, which must be the subject's last sequence + 1:
   * the store refuses a gap or a repeat with {@link StoreException}. A write to a subject without
   * a record (destroyed) starts a new one (new id, sequences from 1).
   */
  record Append(long sequence, long timestampMs, byte[] payload) implements StoreWrite {
    @Override
    public int bytes() {
      return payload.length;
    }
  }

  /**
   * A new state object (UTF-8 JSON) at its (already assigned) revision, which must be the subject's
   * state revision + 1: the store refuses anything else with {@link StoreException}.
   */
  record PutState(byte[] stateJson, long revision) implements StoreWrite {
    @Override
    public int bytes() {
      return stateJson.length;
    }
  }

  /**
   * New opaque data of one protocol view (see {@link SubjectRecord#views()}); an empty array
   * removes the view's entry.
   */
  record PutView(String view, byte[] data) implements StoreWrite {
    @Override
    public int bytes() {
      return data.length;
    }
  }

  /** Deletion of retained messages up to a sequence. The last sequence never moves back. */
  record DeleteUpTo(long sequence) implements StoreWrite {
    @Override
    public int bytes() {
      return 0;
    }
  }

  /**
   * Removal of checkpointed messages up to {@code upTo} from the local store, oldest first, while
   * more than {@code keepMessages} messages or {@code keepBytes} payload bytes are held locally or
   * the oldest is older than {@code minTimestampMs}; at most {@link #MAX_EVICTIONS_PER_WRITE}.
   * The subject's sequences and message count do not change; its bytes drop by the removed payloads.
   */
  record Evict(long upTo, long keepMessages, long keepBytes, long minTimestampMs) implements StoreWrite {
    @Override
    public int bytes() {
      return 0;
    }

    /** The last sequence this eviction removes, given the subject's local messages oldest first; 0 if none. */
    long lastEvicted(SubjectRecord record, Iterable<StoredMessage> local) {
      long localBytes = record.bytes();
      long localMessages = -1;
      long end = 0;
      int evicted = 0;
      for (StoredMessage message : local) {
        if (message.sequence() > upTo || evicted == MAX_EVICTIONS_PER_WRITE) {
          break;
        }
        if (localMessages < 0) {
          localMessages = record.lastSequence() - message.sequence() + 1;
        }
        if (localMessages <= keepMessages && localBytes <= keepBytes && message.timestampMs() >= minTimestampMs) {
          break;
        }
        end = message.sequence();
        evicted++;
        localMessages--;
        localBytes -= message.payload().length;
      }
      return end;
    }
  }

  /**
   * Rebuilds a subject that has no local messages and last sequence 0 from its checkpoint: sequences,
   * last publish time, state with its revision and view data; its messages stay in the archive. Refused with
   * {@link StoreException} if the subject already has a sequence.
   */
  record Restore(long firstSequence, long lastSequence, long lastTimestampMs, byte[] stateJson, long stateRevision,
                 Map<String, byte[]> views) implements StoreWrite {
    @Override
    public int bytes() {
      return stateJson.length;
    }
  }

  /** Removal of the subject: its messages, state, views and record. Writes after it start a new subject. */
  record Destroy() implements StoreWrite {
    @Override
    public int bytes() {
      return 0;
    }
  }
}
