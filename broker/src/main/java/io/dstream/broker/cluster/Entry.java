package io.dstream.broker.cluster;

import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.SubjectWrites;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One Raft entry of a partition: the writes of the actors' batches the leader collected, in order,
 * and which node and batch they came from, so that the leader that proposed them completes its
 * actors' batches when it applies the entry. Entries are the cluster's write-ahead log.
 *
 * <p>Format (big-endian): {@code UTF origin | long id | int subjects | subjects x (UTF subject |
 * int writes | writes x (byte kind | fields))}, with byte arrays as {@code int length | bytes}.
 */
record Entry(String origin, long id, List<SubjectWrites> writes) {

  private static final byte APPEND = 1;
  private static final byte PUT_STATE = 2;
  private static final byte PUT_VIEW = 3;
  private static final byte DELETE_UP_TO = 4;
  private static final byte EVICT = 5;
  private static final byte RESTORE = 6;
  private static final byte DESTROY = 7;

  byte[] encode() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeUTF(origin);
      out.writeLong(id);
      out.writeInt(writes.size());
      for (SubjectWrites subject : writes) {
        out.writeUTF(subject.subject());
        out.writeInt(subject.writes().size());
        for (StoreWrite write : subject.writes()) {
          write(out, write);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  private static void write(DataOutputStream out, StoreWrite write) throws IOException {
    if (write instanceof StoreWrite.Append a) {
      out.writeByte(APPEND);
      out.writeLong(a.sequence());
      out.writeLong(a.timestampMs());
      bytes(out, a.payload());
    } else if (write instanceof StoreWrite.PutState s) {
      out.writeByte(PUT_STATE);
      bytes(out, s.stateJson());
      out.writeLong(s.revision());
    } else if (write instanceof StoreWrite.PutView v) {
      out.writeByte(PUT_VIEW);
      out.writeUTF(v.view());
      bytes(out, v.data());
    } else if (write instanceof StoreWrite.DeleteUpTo d) {
      out.writeByte(DELETE_UP_TO);
      out.writeLong(d.sequence());
    } else if (write instanceof StoreWrite.Evict e) {
      out.writeByte(EVICT);
      out.writeLong(e.upTo());
      out.writeLong(e.keepMessages());
      out.writeLong(e.keepBytes());
      out.writeLong(e.minTimestampMs());
    } else if (write instanceof StoreWrite.Restore r) {
      out.writeByte(RESTORE);
      out.writeLong(r.firstSequence());
      out.writeLong(r.lastSequence());
      out.writeLong(r.lastTimestampMs());
      bytes(out, r.stateJson());
      out.writeLong(r.stateRevision());
      out.writeInt(r.views().size());
      for (Map.Entry<String, byte[]> view : r.views().entrySet()) {
        out.writeUTF(view.getKey());
        bytes(out, view.getValue());
      }
    } else {
      out.writeByte(DESTROY);
    }
  }

  static Entry decode(byte[] data) {
    try (DataInputStream in = new DataInputStream(new java.io.ByteArrayInputStream(data))) {
      String origin = in.readUTF();
      long id = in.readLong();
      int subjects = in.readInt();
      List<SubjectWrites> writes = new ArrayList<>(subjects);
      for (int i = 0; i < subjects; i++) {
        String subject = in.readUTF();
        int count = in.readInt();
        List<StoreWrite> list = new ArrayList<>(count);
        for (int j = 0; j < count; j++) {
          list.add(read(in));
        }
        writes.add(new SubjectWrites(subject, list));
      }
      return new Entry(origin, id, writes);
    } catch (IOException e) {
      throw new UncheckedIOException("malformed cluster entry", e);
    }
  }

  private static StoreWrite read(DataInputStream in) throws IOException {
    byte kind = in.readByte();
    return switch (kind) {
      case APPEND -> new StoreWrite.Append(in.readLong(), in.readLong(), bytes(in));
      case PUT_STATE -> new StoreWrite.PutState(bytes(in), in.readLong());
      case PUT_VIEW -> new StoreWrite.PutView(in.readUTF(), bytes(in));
      case DELETE_UP_TO -> new StoreWrite.DeleteUpTo(in.readLong());
      case EVICT -> new StoreWrite.Evict(in.readLong(), in.readLong(), in.readLong(), in.readLong());
      case RESTORE -> {
        long first = in.readLong();
        long last = in.readLong();
        long lastTimestamp = in.readLong();
        byte[] state = bytes(in);
        long revision = in.readLong();
        int views = in.readInt();
        Map<String, byte[]> data = new LinkedHashMap<>();
        for (int i = 0; i < views; i++) {
          data.put(in.readUTF(), bytes(in));
        }
        yield new StoreWrite.Restore(first, last, lastTimestamp, state, revision, data);
      }
      case DESTROY -> new StoreWrite.Destroy();
      default -> throw new IOException("unknown write kind " + kind);
    };
  }

  /** A byte array as {@code int length | bytes} (the snapshot files use the same form). */
  static void bytes(DataOutputStream out, byte[] data) throws IOException {
    out.writeInt(data.length);
    out.write(data);
  }

  static byte[] bytes(DataInputStream in) throws IOException {
    byte[] data = new byte[in.readInt()];
    in.readFully(data);
    return data;
  }
}
