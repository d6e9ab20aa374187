package io.dstream.broker.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * Per-subject bookkeeping kept next to the messages and committed with them.
 *
 * <p>{@code firstSequence > lastSequence} means no message is retained. {@code lastSequence}
 * only grows, also across deletions, so sequences are never reused.
 *
 * <p>On-disk format (value of the {@code subjects} map, key = subject name), big-endian:
 * {@code byte version(1) | long id | long firstSequence | long lastSequence | long messages |
 * long bytes | int stateLength | stateLength bytes of UTF-8 JSON | int attributesLength |
 * attributesLength bytes}. Version 1 ended after the state and is read with empty attributes.
 *
 * <p>{@code attributes} are opaque bytes owned by a protocol view (the Durable Streams view keeps
 * its stream metadata there); empty when no view claimed the subject.
 */
public record SubjectRecord(long id, long firstSequence, long lastSequence, long messages, long bytes,
                            byte[] state, byte[] attributes) {

  static final byte FORMAT_VERSION = 2;
  private static final byte FORMAT_VERSION_WITHOUT_ATTRIBUTES = 1;
  static final byte[] EMPTY_STATE = "{}".getBytes(StandardCharsets.UTF_8);
  static final byte[] NO_ATTRIBUTES = new byte[0];

  static SubjectRecord empty(long id) {
    return new SubjectRecord(id, 1, 0, 0, 0, EMPTY_STATE, NO_ATTRIBUTES);
  }

  SubjectRecord withAppend(int payloadBytes) {
    return new SubjectRecord(id, firstSequence, lastSequence + 1, messages + 1, bytes + payloadBytes, state, attributes);
  }

  SubjectRecord withState(byte[] newState) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, newState, attributes);
  }

  SubjectRecord withAttributes(byte[] newAttributes) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, state, newAttributes);
  }

  SubjectRecord withDeleted(long newFirst, long deletedMessages, long deletedBytes) {
    return new SubjectRecord(id, newFirst, lastSequence, messages - deletedMessages, bytes - deletedBytes, state,
        attributes);
  }

  byte[] encode() {
    ByteBuffer buffer = ByteBuffer.allocate(1 + 5 * Long.BYTES + 2 * Integer.BYTES + state.length + attributes.length);
    buffer.put(FORMAT_VERSION).putLong(id).putLong(firstSequence).putLong(lastSequence)
        .putLong(messages).putLong(bytes).putInt(state.length).put(state)
        .putInt(attributes.length).put(attributes);
    return buffer.array();
  }

  static SubjectRecord decode(byte[] encoded) {
    ByteBuffer buffer = ByteBuffer.wrap(encoded);
    byte version = buffer.get();
    if (version != FORMAT_VERSION && version != FORMAT_VERSION_WITHOUT_ATTRIBUTES) {
      throw new StoreException("unknown subject record format " + version);
    }
    long id = buffer.getLong();
    long first = buffer.getLong();
    long last = buffer.getLong();
    long messages = buffer.getLong();
    long bytes = buffer.getLong();
    byte[] state = new byte[buffer.getInt()];
    buffer.get(state);
    byte[] attributes = NO_ATTRIBUTES;
    if (version == FORMAT_VERSION) {
      attributes = new byte[buffer.getInt()];
      buffer.get(attributes);
    }
    return new SubjectRecord(id, first, last, messages, bytes, state, attributes);
  }
}
