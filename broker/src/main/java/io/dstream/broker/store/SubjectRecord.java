package io.dstream.broker.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Per-subject bookkeeping kept next to the messages and committed with them.
 *
 * <p>{@code messages} counts retained messages ({@code lastSequence - firstSequence + 1}, retained
 * messages are consecutive); {@code bytes} counts the payload bytes held in the local store, which
 * is less when checkpointed messages left it for the archive (docs/storage.md).
 *
 * <p>{@code firstSequence > lastSequence} means no message is retained. {@code lastSequence}
 * only grows, also across deletions, so sequences are never reused.
 *
 * <p>On-disk format (value of the {@code subjects} map, key = subject name), big-endian:
 * {@code byte version(1) | long id | long firstSequence | long lastSequence | long messages |
 * long bytes | int stateLength | stateLength bytes of UTF-8 JSON}.
 */
public record SubjectRecord(long id, long firstSequence, long lastSequence, long messages, long bytes,
                            byte[] state) {

  static final byte FORMAT_VERSION = 1;
  static final byte[] EMPTY_STATE = "{}".getBytes(StandardCharsets.UTF_8);

  static SubjectRecord empty(long id) {
    return new SubjectRecord(id, 1, 0, 0, 0, EMPTY_STATE);
  }

  SubjectRecord withAppend(int payloadBytes) {
    return new SubjectRecord(id, firstSequence, lastSequence + 1, messages + 1, bytes + payloadBytes, state);
  }

  SubjectRecord withState(byte[] newState) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, newState);
  }

  SubjectRecord withDeleted(long newFirst, long deletedMessages, long deletedBytes) {
    return new SubjectRecord(id, newFirst, lastSequence, messages - deletedMessages, bytes - deletedBytes, state);
  }

  SubjectRecord withEvicted(long evictedBytes) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes - evictedBytes, state);
  }

  SubjectRecord withRestored(long first, long last, byte[] restoredState) {
    return new SubjectRecord(id, first, last, Math.max(0, last - first + 1), 0, restoredState);
  }

  byte[] encode() {
    ByteBuffer buffer = ByteBuffer.allocate(1 + 5 * Long.BYTES + Integer.BYTES + state.length);
    buffer.put(FORMAT_VERSION).putLong(id).putLong(firstSequence).putLong(lastSequence)
        .putLong(messages).putLong(bytes).putInt(state.length).put(state);
    return buffer.array();
  }

  static SubjectRecord decode(byte[] encoded) {
    ByteBuffer buffer = ByteBuffer.wrap(encoded);
    byte version = buffer.get();
    if (version != FORMAT_VERSION) {
      throw new StoreException("unknown subject record format " + version);
    }
    long id = buffer.getLong();
    long first = buffer.getLong();
    long last = buffer.getLong();
    long messages = buffer.getLong();
    long bytes = buffer.getLong();
    byte[] state = new byte[buffer.getInt()];
    buffer.get(state);
    return new SubjectRecord(id, first, last, messages, bytes, state);
  }
}
