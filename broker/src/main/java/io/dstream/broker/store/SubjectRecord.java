package io.dstream.broker.store;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.Map;
import java.util.TreeMap;

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
 * {@code lastTimestampMs} is the publish time of the newest message ever appended, so publish times
 * stay non-decreasing across restarts even if the clock steps back.
 *
 * <p>{@code stateRevision} counts the changes of the state object: 0 while it was never set, one more
 * for every {@link StoreWrite.PutState} (each carries the next revision, as an append carries the
 * next sequence). A destroyed subject has no record, so a new one starts again at 0.
 *
 * <p>{@code views} holds opaque bytes per protocol view, by view name (the records API keeps its
 * producer version under {@link #RECORDS_VIEW}, the Durable Streams view its stream metadata under
 * {@link #DURABLE_STREAMS_VIEW}); the store never looks inside. Those two names are fixed here
 * because format 3 kept their data in fields of its own, which format 4 decodes into these views.
 *
 * <p>On-disk format (value of the {@code subjects} map, key = subject name), big-endian:
 * {@code byte version(5) | long id | long firstSequence | long lastSequence | long messages |
 * long bytes | long lastTimestampMs | int stateLength | stateLength bytes of UTF-8 JSON |
 * long stateRevision | int viewCount | viewCount × (int nameLength | UTF-8 name | int dataLength | data)},
 * views in name order. Older formats still decode, with no revision: their state reads as revision 0
 * when it is exactly {@code {}} (never set, as far as anyone can tell) and as revision 1 otherwise
 * ({@link #legacyRevision}). Format 4 is format 5 without the revision; 3 is {@code version | id | first | last | messages | bytes |
 * long producerVersion | long lastTimestampMs | state | int attributesLength | attributes}, 2 ends
 * after the state, 1 also lacks the producer version and last publish time (decoded as 0). A
 * non-zero producer version becomes the {@link #RECORDS_VIEW} view ({@link #longView}), non-empty
 * attributes the {@link #DURABLE_STREAMS_VIEW} view.
 */
public record SubjectRecord(long id, long firstSequence, long lastSequence, long messages, long bytes,
                            long lastTimestampMs, byte[] state, long stateRevision, Map<String, byte[]> views) {

  /** The view holding the records API producer version (fencing token), as {@link #longView}. */
  public static final String RECORDS_VIEW = "records";
  /** The view holding the Durable Streams view's stream metadata. */
  public static final String DURABLE_STREAMS_VIEW = "ds";

  static final byte FORMAT_VERSION = 5;
  /** The last format with views but without a state revision. */
  private static final byte VIEWS_FORMAT = 4;
  static final byte[] EMPTY_STATE = "{}".getBytes(StandardCharsets.UTF_8);
  private static final byte[] NO_DATA = new byte[0];
  /** The id of {@link #absent()}; real subject ids start at 1. */
  static final long ABSENT_ID = 0;

  /** The class of the read-only sorted views this constructor makes, which later records share. */
  private static final Class<?> SORTED_VIEWS = Collections.unmodifiableSortedMap(new TreeMap<>()).getClass();

  public SubjectRecord {
    // A record is made for every appended message: views this constructor already copied are shared, not copied again.
    if (views.isEmpty()) {
      views = Map.of();
    } else if (views.getClass() != SORTED_VIEWS) {
      views = Collections.unmodifiableSortedMap(new TreeMap<>(views));
    }
  }

  /** The data of {@code view}, empty if the view never wrote any. */
  public byte[] view(String view) {
    return views.getOrDefault(view, NO_DATA);
  }

  /** A view's data holding one number: 8 bytes big-endian (0 is no data). */
  public static byte[] longView(long value) {
    return value == 0 ? NO_DATA : ByteBuffer.allocate(Long.BYTES).putLong(value).array();
  }

  /** The number held by {@link #longView} data; 0 for no data. */
  public static long longValue(byte[] data) {
    return data.length == 0 ? 0 : ByteBuffer.wrap(data).getLong();
  }

  static SubjectRecord empty(long id) {
    return new SubjectRecord(id, 1, 0, 0, 0, 0, EMPTY_STATE, 0, Map.of());
  }

  /** What a subject without a record (never written, or destroyed) reads as: empty, id 0. */
  public static SubjectRecord absent() {
    return empty(ABSENT_ID);
  }

  public boolean isAbsent() {
    return id == ABSENT_ID;
  }

  SubjectRecord withAppend(int payloadBytes, long timestampMs) {
    return new SubjectRecord(id, firstSequence, lastSequence + 1, messages + 1, bytes + payloadBytes,
        Math.max(lastTimestampMs, timestampMs), state, stateRevision, views);
  }

  /** After {@code put}, which must carry the next revision. */
  SubjectRecord withState(String subject, StoreWrite.PutState put) {
    if (put.revision() != stateRevision + 1) {
      throw new StoreException("state of '" + subject + "' put at revision " + put.revision()
          + " but its revision is " + stateRevision);
    }
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, lastTimestampMs, put.stateJson(),
        put.revision(), views);
  }

  SubjectRecord withView(String view, byte[] data) {
    Map<String, byte[]> changed = new TreeMap<>(views);
    if (data.length == 0) {
      changed.remove(view);
    } else {
      changed.put(view, data);
    }
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes, lastTimestampMs, state, stateRevision,
        changed);
  }

  /** After deleting up to {@code upTo}: the local messages removed held {@code deletedBytes}. */
  SubjectRecord withDeletedUpTo(long upTo, long deletedBytes) {
    long end = Math.min(upTo, lastSequence);
    if (end < firstSequence) {
      return this;
    }
    return new SubjectRecord(id, end + 1, lastSequence, messages - (end - firstSequence + 1), bytes - deletedBytes,
        lastTimestampMs, state, stateRevision, views);
  }

  SubjectRecord withEvicted(long evictedBytes) {
    return new SubjectRecord(id, firstSequence, lastSequence, messages, bytes - evictedBytes, lastTimestampMs, state,
        stateRevision, views);
  }

  SubjectRecord withRestored(StoreWrite.Restore restore) {
    return new SubjectRecord(id, restore.firstSequence(), restore.lastSequence(),
        Math.max(0, restore.lastSequence() - restore.firstSequence() + 1), 0, restore.lastTimestampMs(),
        restore.stateJson(), restore.stateRevision(), restore.views());
  }

  byte[] encode() {
    int size = 1 + 7 * Long.BYTES + 2 * Integer.BYTES + state.length;
    for (Map.Entry<String, byte[]> view : views.entrySet()) {
      size += 2 * Integer.BYTES + view.getKey().getBytes(StandardCharsets.UTF_8).length + view.getValue().length;
    }
    ByteBuffer buffer = ByteBuffer.allocate(size);
    buffer.put(FORMAT_VERSION).putLong(id).putLong(firstSequence).putLong(lastSequence)
        .putLong(messages).putLong(bytes).putLong(lastTimestampMs).putInt(state.length).put(state)
        .putLong(stateRevision).putInt(views.size());
    for (Map.Entry<String, byte[]> view : views.entrySet()) {
      byte[] name = view.getKey().getBytes(StandardCharsets.UTF_8);
      buffer.putInt(name.length).put(name).putInt(view.getValue().length).put(view.getValue());
    }
    return buffer.array();
  }

  static SubjectRecord decode(byte[] encoded) {
    ByteBuffer buffer = ByteBuffer.wrap(encoded);
    byte version = buffer.get();
    if (version < 1 || version > FORMAT_VERSION) {
      throw new StoreException("unknown subject record format " + version);
    }
    long id = buffer.getLong();
    long first = buffer.getLong();
    long last = buffer.getLong();
    long messages = buffer.getLong();
    long bytes = buffer.getLong();
    long producerVersion = version == 2 || version == 3 ? buffer.getLong() : 0;
    long lastTimestamp = version >= 2 ? buffer.getLong() : 0;
    byte[] state = bytes(buffer);
    long stateRevision = version == FORMAT_VERSION ? buffer.getLong() : legacyRevision(state);
    Map<String, byte[]> views = new TreeMap<>();
    if (version >= VIEWS_FORMAT) {
      for (int count = buffer.getInt(); count > 0; count--) {
        views.put(new String(bytes(buffer), StandardCharsets.UTF_8), bytes(buffer));
      }
    } else {
      if (producerVersion != 0) {
        views.put(RECORDS_VIEW, longView(producerVersion));
      }
      byte[] attributes = version == 3 ? bytes(buffer) : NO_DATA;
      if (attributes.length > 0) {
        views.put(DURABLE_STREAMS_VIEW, attributes);
      }
    }
    return new SubjectRecord(id, first, last, messages, bytes, lastTimestamp, state, stateRevision, views);
  }

  /**
   * The revision of a state kept without one (a record or checkpoint written before revisions
   * existed): 0 for exactly {@code {}}, the state of a subject whose state was never set, else 1.
   */
  public static long legacyRevision(byte[] state) {
    return Arrays.equals(state, EMPTY_STATE) ? 0 : 1;
  }

  private static byte[] bytes(ByteBuffer buffer) {
    byte[] read = new byte[buffer.getInt()];
    buffer.get(read);
    return read;
  }
}
