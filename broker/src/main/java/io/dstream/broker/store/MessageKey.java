package io.dstream.broker.store;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

import java.nio.ByteBuffer;

/**
 * Key of the {@code runs} map ({@link MessageLog}) and of the {@code messages} map of layout 1: subject
 * id, then sequence, so one subject's keys are contiguous and ordered. Two variable-length longs.
 */
record MessageKey(long subjectId, long sequence) {

  /** MVStore serialization and ordering of {@link MessageKey}. */
  static final class Type extends BasicDataType<MessageKey> {
    static final Type INSTANCE = new Type();

    @Override
    public int compare(MessageKey a, MessageKey b) {
      int bySubject = Long.compare(a.subjectId, b.subjectId);
      return bySubject != 0 ? bySubject : Long.compare(a.sequence, b.sequence);
    }

    @Override
    public int getMemory(MessageKey key) {
      return 32;
    }

    @Override
    public void write(WriteBuffer buffer, MessageKey key) {
      buffer.putVarLong(key.subjectId).putVarLong(key.sequence);
    }

    @Override
    public MessageKey read(ByteBuffer buffer) {
      return new MessageKey(DataUtils.readVarLong(buffer), DataUtils.readVarLong(buffer));
    }

    @Override
    public MessageKey[] createStorage(int size) {
      return new MessageKey[size];
    }
  }
}
