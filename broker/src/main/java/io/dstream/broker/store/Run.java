package io.dstream.broker.store;

import org.h2.mvstore.DataUtils;
import org.h2.mvstore.WriteBuffer;
import org.h2.mvstore.type.BasicDataType;

import java.nio.ByteBuffer;

/**
 * Value of the {@code runs} map ({@link MessageLog}): {@code count} consecutive sequences of one
 * subject stored at consecutive log positions from {@code position}. Two variable-length longs.
 */
record Run(long position, long count) {

  long endPosition() {
    return position + count;
  }

  /** MVStore serialization of {@link Run}. */
  static final class Type extends BasicDataType<Run> {
    static final Type INSTANCE = new Type();

    @Override
    public int getMemory(Run run) {
      return 32;
    }

    @Override
    public void write(WriteBuffer buffer, Run run) {
      buffer.putVarLong(run.position).putVarLong(run.count);
    }

    @Override
    public Run read(ByteBuffer buffer) {
      return new Run(DataUtils.readVarLong(buffer), DataUtils.readVarLong(buffer));
    }

    @Override
    public Run[] createStorage(int size) {
      return new Run[size];
    }
  }
}
