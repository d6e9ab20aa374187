package io.dstream.client;

import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetSocket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A TCP proxy on 127.0.0.1 in front of the broker that can swallow what the broker sends and cut
 * every connection: the way to lose a reply after the broker has acted on the request.
 */
final class CuttingProxy implements AutoCloseable {

  private static final long AWAIT_SECONDS = 10;

  private final NetServer server;
  private final NetClient client;
  private final List<NetSocket> sockets = new CopyOnWriteArrayList<>();
  private volatile boolean swallowReplies;

  private CuttingProxy(Vertx vertx, int brokerPort) throws TimeoutException {
    this.client = vertx.createNetClient();
    this.server = vertx.createNetServer().connectHandler(inbound -> {
      inbound.pause();
      client.connect(brokerPort, "127.0.0.1").onSuccess(outbound -> {
        sockets.add(inbound);
        sockets.add(outbound);
        inbound.handler(outbound::write);
        outbound.handler(buffer -> {
          if (!swallowReplies) {
            inbound.write(buffer);
          }
        });
        inbound.closeHandler(v -> outbound.close());
        outbound.closeHandler(v -> inbound.close());
        inbound.resume();
      }).onFailure(e -> inbound.close());
    }).listen(0, "127.0.0.1").await(AWAIT_SECONDS, TimeUnit.SECONDS);
  }

  static CuttingProxy start(Vertx vertx, int brokerPort) throws TimeoutException {
    return new CuttingProxy(vertx, brokerPort);
  }

  int port() {
    return server.actualPort();
  }

  /** From now on, what the broker sends is dropped instead of forwarded. */
  void swallowReplies() {
    swallowReplies = true;
  }

  /** Closes every proxied connection and forwards normally again for new ones. */
  void cutAll() {
    swallowReplies = false;
    for (NetSocket socket : sockets) {
      socket.close();
    }
    sockets.clear();
  }

  @Override
  public void close() throws TimeoutException {
    server.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    client.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
  }
}
