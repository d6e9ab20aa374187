package io.dstream.broker.http;

import io.netty.channel.Channel;
import io.netty.handler.flush.FlushConsolidationHandler;

/**
 * Replies and pushes are written from actor tasks, outside any read, where Vert.x flushes every
 * write: one system call per message. Netty's consolidation handler turns the flushes of one
 * event-loop task into one, for at most one task's delay. Used by every connection that actors
 * write to (protocol v1 WebSockets, NATS connections).
 */
public final class FlushConsolidation {

  /** Most writes one system call carries before a flush goes out anyway (Netty's default). */
  private static final int FLUSHES_PER_WRITE = FlushConsolidationHandler.DEFAULT_EXPLICIT_FLUSH_AFTER_FLUSHES;

  private FlushConsolidation() {
  }

  /** Installs the handler at the head of {@code channel}'s pipeline. */
  public static void install(Channel channel) {
    channel.pipeline().addFirst("dstream-flush-consolidation", new FlushConsolidationHandler(FLUSHES_PER_WRITE, true));
  }
}
