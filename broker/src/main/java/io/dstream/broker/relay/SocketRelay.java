package io.dstream.broker.relay;

import io.dstream.broker.http.ConnectionGate;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketConnectOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays protocol v1 WebSocket upgrades to their subject's leader. The socket to the leader is opened
 * first, with the client's request line and credentials, and only then is the client's upgrade
 * accepted: a refusal by the leader (401, 403, 400...) reaches the client as the HTTP answer it would
 * have had from the leader, unchanged. "Try again later" is a close with 1013 after the upgrade, since
 * that is what v1 clients reconnect on: when no leader is known, when the leader cannot be reached
 * within the connect timeout, or when it answers 503 (it no longer leads the subject, or is
 * overloaded).
 *
 * <p>Threading: each relay runs on its request's event loop; the client is shared and thread-safe.
 */
final class SocketRelay {

  private static final Logger LOG = LoggerFactory.getLogger(SocketRelay.class);

  private final Vertx vertx;
  private final WebSocketClient client;
  private final String nodeId;
  private final long connectTimeoutMs;
  private final long leaderPingIntervalMs;
  private final ConnectionGate gate;

  SocketRelay(Vertx vertx, WebSocketClient client, String nodeId, long connectTimeoutMs, long leaderPingIntervalMs,
              ConnectionGate gate) {
    this.vertx = vertx;
    this.client = client;
    this.nodeId = nodeId;
    this.connectTimeoutMs = connectTimeoutMs;
    this.leaderPingIntervalMs = leaderPingIntervalMs;
    this.gate = gate;
  }

  void relay(HttpServerRequest request, String subject, LeaderAddress leader) {
    request.pause();
    WebSocketConnectOptions options = new WebSocketConnectOptions()
        .setHost(leader.host())
        .setPort(leader.port())
        .setSsl(leader.ssl())
        .setURI(request.uri())
        .setConnectTimeout(connectTimeoutMs)
        .setTimeout(connectTimeoutMs)
        // The client's own Origin, if any, is among the relayed headers.
        .setAllowOriginHeader(false)
        .setHeaders(RelayHeaders.request(request, nodeId));
    client.connect(options).onComplete(connected -> {
      if (connected.succeeded()) {
        WebSocket upstream = connected.result();
        // Until the client's side is wired, nothing the leader sends may be delivered to no one.
        upstream.pause();
        accept(request, upstream);
        return;
      }
      Throwable cause = connected.cause();
      if (cause instanceof UpgradeRejectedException rejected && rejected.getStatus() != 503) {
        refused(request, rejected);
        return;
      }
      LOG.info("relaying a WebSocket for '{}' to its leader at {} failed: {}", subject, leader, cause.toString());
      tryLater(request, cause instanceof UpgradeRejectedException
          ? "the subject's leader is unavailable; reconnect" : "the subject's leader cannot be reached; reconnect");
    });
  }

  private void accept(HttpServerRequest request, WebSocket upstream) {
    request.toWebSocket().onComplete(upgraded -> {
      if (upgraded.failed()) {
        LOG.debug("relayed websocket upgrade failed: {}", upgraded.cause().toString());
        upstream.close();
        return;
      }
      new RelayedSocket(vertx, upgraded.result(), upstream, gate.upgraded(request.connection()))
          .start(leaderPingIntervalMs);
    });
  }

  /** The leader's refusal of the upgrade, as it answered it. */
  private static void refused(HttpServerRequest request, UpgradeRejectedException rejected) {
    HttpServerResponse response = request.response();
    response.setStatusCode(rejected.getStatus());
    RelayHeaders.response(rejected.getHeaders(), response.headers());
    Buffer body = rejected.getBody();
    request.resume();
    response.end(body == null ? Buffer.buffer() : body);
  }

  /** Accepts the upgrade and closes the socket at once with 1013 and {@code reason}. */
  void tryLater(HttpServerRequest request, String reason) {
    request.toWebSocket().onComplete(upgraded -> {
      if (upgraded.failed()) {
        LOG.debug("websocket upgrade failed: {}", upgraded.cause().toString());
        return;
      }
      Runnable released = gate.upgraded(request.connection());
      upgraded.result().closeHandler(v -> released.run());
      upgraded.result().close(RelayedSocket.TRY_AGAIN_LATER, RelayedSocket.reason(reason));
    });
  }

  Future<Void> close() {
    return client.close();
  }
}
