package io.dstream.broker.nats;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
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

  String remoteAddress();

  static Transport tcp(NetSocket socket) {
    return new Transport() {
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
