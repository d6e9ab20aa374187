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
 * only grows, also across deletions, so sequences are never reused (until the subject is
 * destroyed: a destroyed subject has no record, and its next use starts a new one).
 * {@code producerVersion} is the records API fencing token (0 until set); {@code lastTimestampMs}
 * is the publish time of the newest message ever appended, so publish times stay non-decreasing
 * across restarts even if the clock steps back.
 *
 * <p>{@code attributes} are opaque bytes owned by a protocol view (the Durable Streams view keeps
 * its stream metadata there); empty when no view claimed the subject.
 *
 * <p>On-disk format (value of the {@code subjects} map, key = subject name), big-endian:
 * {@code byte version(3) | long id | long firstSequence | long lastSequence | long messages |
 * long bytes | long producerVersion | long lastTimestampMs | int stateLength | stateLength bytes of
 * UTF-8 JSON | int attributesLength | attributesLength bytes}. Version 2 ends after the state and
 * decodes with empty attributes; version 1 also lacks the two fields after {@code bytes}, which
 * decode as 0.
 */
public record SubjectRecord(long id, long firstSequence, long lastSequence, long messages, long bytes,
                            long producerVersion, long lastTimestampMs, byte[] state, byte[] attributes) {

  static final byte FORMAT_VERSION = 3;
  static final byte FORMAT_VERSION_2 = 2;
  static final byte FORMAT_VERSION_1 = 1;
  static final byte[] EMPTY_STATE = "{}".getBytes(StandardCharsets.UTF_8);
  static final byte[] NO_ATTRIBUTES = new byte[0];
  /** The id of {@link #absent()}; real subject ids start at 1. */
  static final long ABSENT_ID = 0;

  static SubjectRecord empty(long id) {
    return new SubjectRecord(id, 1, 0, 0, 0, 0, 0, EMPTY_STATE, NO_ATTRIBUTES);
  }

  /** What a subject without a record (never written, or destroyed) reads as: empty, id 0. */
  public static SubjectRecord absent() {
    return empty(ABSENT_ID);
  }

  public boolean isAbsent() {
    return id == ABSENT_ID;
  }

  SubjectRecord withAppend(int payloadBytes, long timestampMs) {
    return new SubjectRecord(id, firstSequence, lastSequence + 1, messages + 1, bytes + payloadBytes, producerVersion,
        Math.max(lastTimestampMs, timestampMs), state, attributes);
  }

  SubjectRecord withState(byte[] newState) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, producerVersion, lastTimestampMs, newState,
        attributes);
  }

  SubjectRecord withAttributes(byte[] newAttributes) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, producerVersion, lastTimestampMs, state,
        newAttributes);
  }

  SubjectRecord withDeleted(long newFirst, long deletedMessages, long deletedBytes) {
    return new SubjectRecord(id, newFirst, lastSequence, messages - deletedMessages, bytes - deletedBytes,
        producerVersion, lastTimestampMs, state, attributes);
  }

  SubjectRecord withProducerVersion(long version) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, version, lastTimestampMs, state,
        attributes);
  }

  SubjectRecord withEvicted(long evictedBytes) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes - evictedBytes, producerVersion,
        lastTimestampMs, state, attributes);
  }

  SubjectRecord withRestored(StoreWrite.Restore restore) {
    return new SubjectRecord(id, restore.firstSequence(), restore.lastSequence(),
        Math.max(0, restore.lastSequence() - restore.firstSequence() + 1), 0, restore.producerVersion(),
        restore.lastTimestampMs(), restore.stateJson(), restore.attributes());
  }

  byte[] encode() {
    ByteBuffer buffer = ByteBuffer.allocate(1 + 7 * Long.BYTES + 2 * Integer.BYTES + state.length + attributes.length);
    buffer.put(FORMAT_VERSION).putLong(id).putLong(firstSequence).putLong(lastSequence)
        .putLong(messages).putLong(bytes).putLong(producerVersion).putLong(lastTimestampMs)
        .putInt(state.length).put(state).putInt(attributes.length).put(attributes);
    return buffer.array();
  }

  static SubjectRecord decode(byte[] encoded) {
    ByteBuffer buffer = ByteBuffer.wrap(encoded);
    byte version = buffer.get();
    if (version != FORMAT_VERSION && version != FORMAT_VERSION_2 && version != FORMAT_VERSION_1) {
      throw new StoreException("unknown subject record format " + version);
    }
    long id = buffer.getLong();
    long first = buffer.getLong();
    long last = buffer.getLong();
    long messages = buffer.getLong();
    long bytes = buffer.getLong();
    long producerVersion = version >= FORMAT_VERSION_2 ? buffer.getLong() : 0;
    long lastTimestamp = version >= FORMAT_VERSION_2 ? buffer.getLong() : 0;
    byte[] state = new byte[buffer.getInt()];
    buffer.get(state);
    byte[] attributes = NO_ATTRIBUTES;
    if (version == FORMAT_VERSION) {
      attributes = new byte[buffer.getInt()];
      buffer.get(attributes);
    }
    return new SubjectRecord(id, first, last, messages, bytes, producerVersion, lastTimestamp, state, attributes);
  }
}
