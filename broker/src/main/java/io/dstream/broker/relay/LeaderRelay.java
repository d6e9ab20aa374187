package io.dstream.broker.relay;

import io.dstream.broker.cluster.ClusterRouting;
import io.dstream.broker.http.ConnectionGate;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.http.WebSocketUpgrade;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.StreamError;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * Cluster mode's HTTP side: a request for a subject whose partition another node leads is served by
 * that node, and its answer (for a v1 WebSocket, every frame both ways) relayed to the client
 * unchanged. The router asks {@link #relayed} once it knows the request's subject, after
 * authentication (a bad credential is refused by the node the client reached) and before any body
 * is read. The relayed request keeps the client's credentials, so the leader authenticates and
 * authorizes it again, and names this node in {@code DStream-Relayed-By}: a node never relays such a
 * request again, it answers 503 (its view of the leader is stale; the client retries and reaches the
 * leader through a node that knows it).
 *
 * <p>Bounds, from the forward timeout: connecting to the leader (TCP and the WebSocket handshake, or
 * a pooled connection) takes at most that long; after a request is sent the leader may be silent
 * that long, plus the long-poll timeout on a {@code GET} (a parked read), or twice that long otherwise
 * (the leader fails a write it cannot make durable within it); a relayed WebSocket's leader is pinged
 * every third of it and closed, its client with 1013, when it has not been heard from for that long.
 * Connections to a leader are bounded by the broker's connection limit, as the clients they serve are.
 *
 * <p>Only exists in cluster mode: a single node creates no relay and no HTTP client. Thread-safe.
 */
public final class LeaderRelay {

  private static final Logger LOG = LoggerFactory.getLogger(LeaderRelay.class);

  private final ClusterRouting routing;
  private final HttpRelay exchanges;
  private final SocketRelay sockets;
  private final Counter relayedExchanges;
  private final Counter relayedSockets;
  private final Counter refused;

  /**
   * @param forwardTimeout         the cluster forward timeout (connect and silence bounds, above)
   * @param longPollTimeout        the longest a read waits on the leader before it answers
   * @param maxWebSocketFrameBytes the largest WebSocket frame the broker's server accepts, which the
   *                               leader may send as well
   * @param gate                   counts the relayed client sockets as the broker's own
   * @param metrics                counts the requests relayed ({@code http}, {@code websocket}) and
   *                               those answered here because no leader could take them ({@code relay})
   */
  public LeaderRelay(Vertx vertx, ClusterRouting routing, Duration forwardTimeout, Duration longPollTimeout,
                     int maxWebSocketFrameBytes, ConnectionGate gate, BrokerMetrics metrics) {
    long forwardMs = forwardTimeout.toMillis();
    if (forwardMs <= 0) {
      throw new IllegalArgumentException("the cluster forward timeout must be positive, was " + forwardTimeout);
    }
    this.routing = routing;
    this.relayedExchanges = metrics.clusterForwarded("http");
    this.relayedSockets = metrics.clusterForwarded("websocket");
    this.refused = metrics.clusterForwardFailed("relay");
    int connections = gate.maxConnections();
    this.exchanges = new HttpRelay(vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout(clamp(forwardMs))
            // Bodies pass as the leader encoded them.
            .setDecompressionSupported(false),
        new PoolOptions().setHttp1MaxSize(connections)),
        routing.nodeId(), forwardMs, forwardMs + longPollTimeout.toMillis(), 2 * forwardMs);
    this.sockets = new SocketRelay(vertx, vertx.createWebSocketClient(new WebSocketClientOptions()
            .setConnectTimeout(clamp(forwardMs))
            .setReadIdleTimeout(clamp(forwardMs))
            .setIdleTimeoutUnit(TimeUnit.MILLISECONDS)
            .setMaxFrameSize(maxWebSocketFrameBytes)
            .setMaxConnections(connections)),
        routing.nodeId(), forwardMs, Math.max(1, forwardMs / 3), gate);
  }

  /**
   * True when {@code ctx} is not this node's to serve and has been taken over: relayed to the leader
   * of {@code subject}, or answered here because it cannot be (no leader known, or a request already
   * relayed once). False when this node leads the subject: the route serves it.
   */
  public boolean relayed(RoutingContext ctx, String subject) {
    HttpServerRequest request = ctx.request();
    String relayedBy = request.getHeader(RelayHeaders.RELAYED_BY);
    String leader;
    try {
      leader = routing.remoteLeaderHttp(subject);
    } catch (StreamError e) {
      refuse(ctx, e, relayedBy == null);
      return true;
    }
    if (leader == null) {
      return false;
    }
    if (relayedBy != null) {
      refuse(ctx, StreamError.of(StreamError.Kind.UNAVAILABLE, "unavailable", "cluster: node " + routing.nodeId()
          + " does not lead '" + subject + "' and does not relay the request node " + relayedBy
          + " relayed to it (leadership moved meanwhile); retry"), false);
      return true;
    }
    LeaderAddress address;
    try {
      address = LeaderAddress.parse(leader);
    } catch (IllegalArgumentException e) {
      LOG.error("the cluster routing named no usable leader for '{}': {}", subject, e.getMessage());
      HttpErrors.send(ctx.response(), 500, "internal", "internal error");
      return true;
    }
    if (WebSocketUpgrade.requested(request)) {
      relayedSockets.increment();
      sockets.relay(request, subject, address);
    } else {
      relayedExchanges.increment();
      exchanges.relay(ctx, subject, address);
    }
    return true;
  }

  /**
   * As {@link #relayed}, for a read this node can also answer from its own replica: false (the route
   * serves it here) when no leader is known, as well as when this node leads the subject.
   */
  public boolean relayedIfLed(RoutingContext ctx, String subject) {
    try {
      if (routing.remoteLeaderHttp(subject) == null) {
        return false;
      }
    } catch (StreamError noLeader) {
      return false;
    }
    return relayed(ctx, subject);
  }

  /**
   * A request this node can neither serve nor relay. A v1 client's upgrade is accepted and closed with
   * 1013 when the refusal is worth retrying, since that is what it reconnects on; any other request,
   * relayed ones included (their relaying node passes the 503 on as it sees fit), gets the HTTP error.
   */
  private void refuse(RoutingContext ctx, StreamError error, boolean fromClient) {
    refused.increment();
    boolean retry = error.kind() == StreamError.Kind.UNAVAILABLE || error.kind() == StreamError.Kind.OVERLOADED;
    if (fromClient && retry && WebSocketUpgrade.requested(ctx.request())) {
      sockets.tryLater(ctx.request(), error.getMessage());
    } else {
      HttpRelay.refuse(ctx, error);
    }
  }

  private static int clamp(long ms) {
    return (int) Math.min(Integer.MAX_VALUE, ms);
  }

  /** Closes the connections to leaders (after the broker's listener closed). */
  public Future<Void> close() {
    return Future.join(exchanges.close(), sockets.close()).mapEmpty();
  }
}
