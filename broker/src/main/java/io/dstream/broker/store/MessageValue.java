package io.dstream.broker.store;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

import java.nio.ByteBuffer;

/** Value of the {@code messages} map of layout 1 (read once, by {@link LegacyLayout}): publish time (variable-length long), payload length (variable-length int), payload. */
record MessageValue(long timestampMs, byte[] payload) {

  /** MVStore serialization of {@link MessageValue}. */
  static final class Type extends BasicDataType<MessageValue> {
    static final Type INSTANCE = new Type();

    @Override
    public int getMemory(MessageValue value) {
      return 48 + value.payload.length;
    }

    @Override
    public void write(WriteBuffer buffer, MessageValue value) {
      buffer.putVarLong(value.timestampMs).putVarInt(value.payload.length).put(value.payload);
    }

    @Override
    public MessageValue read(ByteBuffer buffer) {
      long timestamp = DataUtils.readVarLong(buffer);
      byte[] payload = new byte[DataUtils.readVarInt(buffer)];
      buffer.get(payload);
      return new MessageValue(timestamp, payload);
    }

    @Override
    public MessageValue[] createStorage(int size) {
      return new MessageValue[size];
    }
  }
}
