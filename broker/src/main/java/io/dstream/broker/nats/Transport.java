package io.dstream.broker.nats;

import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.vertx.core.Future;
import io.vertx.core.Promise;
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

  /**
   * Where {@link #tlsRequired}: sends {@code info} in the clear, then starts TLS; the future
   * completes when the handshake has. Elsewhere it only sends {@code info}.
   */
  default Future<Void> sendInfo(Buffer info) {
    return write(info);
  }

  /**
   * A TCP connection; with {@code tls} it upgrades after {@code INFO} with the certificate of its
   * server's options.
   */
  static Transport tcp(NetSocket socket, SslContext tls) {
    return new Transport() {
      @Override
      public boolean tlsRequired() {
        return tls != null;
      }

      @Override
      public Future<Void> sendInfo(Buffer info) {
        if (tls == null) {
          return write(info);
        }
        // The INFO enters the pipeline in the clear and Netty's TLS handler goes in front of it in the
        // same event-loop task, before anything can be read: the client's handshake, which follows
        // the INFO, always meets the handler. (Vert.x's upgrade installs its handler later, and bytes
        // read in between reached the parser in the clear.)
        Channel channel = ((NetSocketInternal) socket).channelHandlerContext().channel();
        socket.write(info);
        SslHandler handler = tls.newHandler(channel.alloc());
        channel.pipeline().addFirst("nats-tls", handler);
        Promise<Void> handshake = Promise.promise();
        handler.handshakeFuture().addListener(done -> {
          if (done.isSuccess()) {
            handshake.complete();
          } else {
            handshake.fail(done.cause());
          }
        });
        return handshake.future();
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
