package io.dstream.broker.ws;

import io.dstream.broker.auth.Permissions;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.http.ConnectionGate;
import io.dstream.broker.http.FlushConsolidation;
import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.StreamRegistry;
import io.netty.channel.Channel;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpServerConnection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Upgrades an authenticated request for a valid subject to a protocol v1 WebSocket. The socket is
 * attached to its actor before the upgrade completes, so the first frame already finds its actor
 * (and the server sends nothing on connect).
 */
public final class V1Endpoint {

  private static final Logger LOG = LoggerFactory.getLogger(V1Endpoint.class);

  private final StreamRegistry registry;
  private final BrokerConfig config;
  private final BrokerMetrics metrics;
  private final ConnectionGate gate;
  private final MemoryBudget budget;
  private final V1FrameParser parser = new V1FrameParser();

  public V1Endpoint(StreamRegistry registry, BrokerConfig config, BrokerMetrics metrics, ConnectionGate gate,
                    MemoryBudget budget) {
    this.registry = registry;
    this.config = config;
    this.metrics = metrics;
    this.gate = gate;
    this.budget = budget;
  }

  /**
   * Upgrades {@code request}; {@code ip} is the client's address as the stored objects show it, and
   * {@code permissions} say what the socket may do.
   * Fails, before any upgrade, if the subject's actor cannot be reached; the caller answers that.
   */
  public Future<Void> upgrade(HttpServerRequest request, String subject, String ip, Permissions permissions) {
    request.pause();
    Context context = Vertx.currentContext();
    // The upgraded socket keeps this TCP channel; Vert.x Web's socket wrapper offers no way to it.
    Channel channel = ((HttpServerConnection) request.connection()).channelHandlerContext().channel();
    return registry.attach(subject, context).onSuccess(actor -> request.toWebSocket()
        .onSuccess(socket -> {
          FlushConsolidation.install(channel);
          new V1Session(socket, channel, context, actor, ip, config.maxPendingRequests(), metrics, parser,
              permissions, config.connectionLimits(), config.maxFrameBytes(),
              new SocketBudget(budget, config.connectionBudgetBytes())).start(gate.upgraded(request.connection()));
        })
        .onFailure(e -> {
          LOG.debug("websocket upgrade for '{}' failed: {}", subject, e.toString());
          actor.detach();
        })).mapEmpty();
  }
}
