package io.dstream.broker.store;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

import java.nio.ByteBuffer;

/**
 * Value of the {@code log} map ({@link MessageLog}): subject id, sequence, publish time (variable-length
 * longs), payload length (variable-length int), payload. The subject id and sequence make every
 * entry self-describing, so the log can be checked or re-indexed without the {@code runs} map.
 */
record LogEntry(long subjectId, long sequence, long timestampMs, byte[] payload) {

  /** MVStore serialization of {@link LogEntry}. */
  static final class Type extends BasicDataType<LogEntry> {
    static final Type INSTANCE = new Type();

    @Override
    public int getMemory(LogEntry entry) {
      return 64 + entry.payload.length;
    }

    @Override
    public void write(WriteBuffer buffer, LogEntry entry) {
      buffer.putVarLong(entry.subjectId).putVarLong(entry.sequence).putVarLong(entry.timestampMs)
          .putVarInt(entry.payload.length).put(entry.payload);
    }

    @Override
    public LogEntry read(ByteBuffer buffer) {
      long subjectId = DataUtils.readVarLong(buffer);
      long sequence = DataUtils.readVarLong(buffer);
      long timestamp = DataUtils.readVarLong(buffer);
      byte[] payload = new byte[DataUtils.readVarInt(buffer)];
      buffer.get(payload);
      return new LogEntry(subjectId, sequence, timestamp, payload);
    }

    @Override
    public LogEntry[] createStorage(int size) {
      return new LogEntry[size];
    }
  }
}
