package io.dstream.broker.nats;

import io.netty.channel.Channel;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * What carries one NATS connection's bytes: a TCP socket, or a WebSocket whose binary messages hold
 * the protocol (nats.ws). Writes are thread-safe (they come from the stream actors' contexts too).
 */
interface Transport {

  void handlers(Handler<Buffer> onData, Handler<Void> onClose);

  Future<Void> write(Buffer data);

  void pause();

  void resume();

  void close();

  /** Cuts the connection at once, whatever is still unsent (a client that reads nothing). */
  void abort();

  String remoteAddress();

  /** Whether the client must start TLS after the broker's {@code INFO} (NATS's TLS on the TCP port). */
  default boolean tlsRequired() {
    return false;
  }

  /** Starts TLS once {@code INFO} has left, where {@link #tlsRequired}; a completed future elsewhere. */
  default Future<Void> secure() {
    return Future.succeededFuture();
  }

  /**
   * A TCP connection; with {@code tls} it upgrades after {@code INFO} with the certificate of its
   * server's options.
   */
  static Transport tcp(NetSocket socket, boolean tls) {
    return new Transport() {
      @Override
      public boolean tlsRequired() {
        return tls;
      }

      @Override
      public Future<Void> secure() {
        return tls ? socket.upgradeToSsl() : Future.succeededFuture();
      }

      @Override
      public void handlers(Handler<Buffer> onData, Handler<Void> onClose) {
        socket.handler(onData);
        socket.closeHandler(onClose);
        socket.exceptionHandler(failure -> socket.close());
      }

      @Override
      public Future<Void> write(Buffer data) {
        return socket.write(data);
      }

      @Override
      public void pause() {
        socket.pause();
      }

      @Override
      public void resume() {
        socket.resume();
      }

      @Override
      public void close() {
        socket.close();
      }

      @Override
      public void abort() {
        // From the first handler's context the close does not wait for unsent bytes to leave.
        ((NetSocketInternal) socket).channelHandlerContext().pipeline().firstContext().close();
      }

      @Override
      public String remoteAddress() {
        return socket.remoteAddress() == null ? "unknown" : socket.remoteAddress().hostAddress();
      }
    };
  }

  /** A WebSocket on the HTTP port; {@code channel} is its TCP connection, for {@link #abort}. */
  static Transport webSocket(ServerWebSocket socket, Channel channel, String ip) {
    return new Transport() {
      @Override
      public void handlers(Handler<Buffer> onData, Handler<Void> onClose) {
        // Text messages too: some WebSocket clients send the protocol's text lines as text.
        socket.handler(onData);
        socket.closeHandler(onClose);
        socket.exceptionHandler(failure -> socket.close());
      }

      @Override
      public Future<Void> write(Buffer data) {
        return socket.writeBinaryMessage(data);
      }

      @Override
      public void pause() {
        socket.pause();
      }

      @Override
      public void resume() {
        socket.resume();
      }

      @Override
      public void close() {
        socket.close();
      }

      @Override
      public void abort() {
        channel.pipeline().firstContext().close();
      }

      @Override
      public String remoteAddress() {
        return ip;
      }
    };
  }
}
