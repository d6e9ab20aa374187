package io.dstream.broker.store;

/** One write of a {@link WriteBatch}, applied by the writer thread in order. */
public sealed interface StoreWrite {

  /** Payload bytes this write adds, for the group-commit byte threshold. */
  int bytes();

  /** A message at its (already assigned) sequence. */
  record Append(long sequence, long timestampMs, byte[] payload) implements StoreWrite {
    @Override
    public int bytes() {
      return payload.length;
    }
  }

  /** A new state object. */
  record PutState(byte[] stateJson) implements StoreWrite {
    @Override
    public int bytes() {
      return stateJson.length;
    }
  }

  /** Deletion of retained messages up to a sequence. */
  record DeleteUpTo(long sequence) implements StoreWrite {
    @Override
    public int bytes() {
      return 0;
    }
  }

  /**
   * Removal of checkpointed messages up to {@code upTo} from the local store, oldest first, while
   * more than {@code keepMessages} messages or {@code keepBytes} payload bytes are held locally or
   * the oldest is older than {@code minTimestampMs}. The subject's sequences do not change.
   */
  record Evict(long upTo, long keepMessages, long keepBytes, long minTimestampMs) implements StoreWrite {
    @Override
    public int bytes() {
      return 0;
    }
  }

  /**
   * Rebuilds an empty subject from its checkpoint: sequences, state, producer version, the last
   * publish time and the view attributes; no local messages.
   */
  record Restore(long firstSequence, long lastSequence, long producerVersion, long lastTimestampMs, byte[] stateJson,
                 byte[] attributes) implements StoreWrite {
    @Override
    public int bytes() {
      return stateJson.length;
    }
  }

  /** New view attributes of the subject (see {@link SubjectRecord#attributes()}). */
  record PutAttributes(byte[] attributes) implements StoreWrite {
    @Override
    public int bytes() {
      return attributes.length;
    }
  }

  /** A new records API producer version (fencing token), committed with the writes after it. */
  record SetProducerVersion(long version) implements StoreWrite {
    @Override
    public int bytes() {
      return 0;
    }
  }

  /** Removal of the subject: its messages, state and record. Writes after it start a new subject. */
  record Destroy() implements StoreWrite {
    @Override
    public int bytes() {
      return 0;
    }
  }
}
