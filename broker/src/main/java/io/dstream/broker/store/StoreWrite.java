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
