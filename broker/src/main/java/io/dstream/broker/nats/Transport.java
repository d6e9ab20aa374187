package io.dstream.broker.nats;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.ServerSSLOptions;

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

  String remoteAddress();

  /** Whether the client must start TLS after the broker's {@code INFO} (NATS's TLS on the TCP port). */
  default boolean tlsRequired() {
    return false;
  }

  /** Starts TLS once {@code INFO} has left, where {@link #tlsRequired}; a completed future elsewhere. */
  default Future<Void> secure() {
    return Future.succeededFuture();
  }

  /** A TCP connection; {@code tls} (null for none) is what it upgrades to after {@code INFO}. */
  static Transport tcp(NetSocket socket, ServerSSLOptions tls) {
    return new Transport() {
      @Override
      public boolean tlsRequired() {
        return tls != null;
      }

      @Override
      public Future<Void> secure() {
        return tls == null ? Future.succeededFuture() : socket.upgradeToSsl(tls);
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
      public String remoteAddress() {
        return socket.remoteAddress() == null ? "unknown" : socket.remoteAddress().hostAddress();
      }
    };
  }

  static Transport webSocket(ServerWebSocket socket, String ip) {
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
      public String remoteAddress() {
        return ip;
      }
    };
  }
}
