package io.dstream.broker.nats;

import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;

import java.util.ArrayList;
import java.util.List;
import java.util.function.IntConsumer;

/**
 * What one connection sends, from any thread, handed to its transport on the connection's context
 * in as few writes as possible, in order. Each write is a trip through Vert.x's and Netty's pipelines
 * with a buffer and a future of its own: when every PubAck and message was one write, those writes
 * were 14 % of the busiest cluster node's samples (scenario 1). Now what reaches a connection
 * between two runs of its context goes out as one write. A buffer of {@link #JOIN_LIMIT} bytes or
 * more is written as it is rather than copied.
 *
 * <p>Thread-safe. Its only state is the list of buffers waiting for the next run.
 */
final class Outbox {

  /** Buffers this large are written on their own: copying them would cost more than their write. */
  static final int JOIN_LIMIT = 16 * 1024;

  private final Context context;
  private final Transport transport;
  private final IntConsumer written;
  private List<Buffer> waiting = new ArrayList<>();
  private boolean drainQueued;

  /** {@code written} gets the length of each write once it has left or failed (on any thread). */
  Outbox(Context context, Transport transport, IntConsumer written) {
    this.context = context;
    this.transport = transport;
    this.written = written;
  }

  /** Queues {@code data}, which the outbox now owns, for the next run of the connection's context. */
  void add(Buffer data) {
    boolean queue;
    synchronized (this) {
      waiting.add(data);
      queue = !drainQueued;
      drainQueued = true;
    }
    if (queue) {
      context.runOnContext(v -> drain());
    }
  }

  /** On the connection's context: writes everything queued so far, in order. */
  void drain() {
    List<Buffer> taken;
    synchronized (this) {
      taken = waiting;
      waiting = new ArrayList<>();
      drainQueued = false;
    }
    int from = 0;
    for (int i = 0; i <= taken.size(); i++) {
      if (i == taken.size() || taken.get(i).length() >= JOIN_LIMIT) {
        write(taken, from, i);
        if (i < taken.size()) {
          write(taken, i, i + 1);
        }
        from = i + 1;
      }
    }
  }

  /** Writes {@code buffers[from, to)} as one write. */
  private void write(List<Buffer> buffers, int from, int to) {
    if (from >= to) {
      return;
    }
    Buffer out = buffers.get(from);
    if (to - from > 1) {
      int length = 0;
      for (int i = from; i < to; i++) {
        length += buffers.get(i).length();
      }
      out = Buffer.buffer(length);
      for (int i = from; i < to; i++) {
        out.appendBuffer(buffers.get(i));
      }
    }
    int length = out.length();
    transport.write(out).onComplete(ar -> written.accept(length));
  }
}
