package io.dstream.broker.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;

/**
 * One more HTTP server on the broker's port, on its own event loop. Vert.x hands the connections
 * accepted on a shared port to its servers in turn, so with one listener per event loop the sockets,
 * and their framing and frame parsing, use every core instead of the one event loop that a single
 * server runs on (which held every WebSocket of the broker before; see docs/benchmarks.md). Every
 * handler behind the router already runs on whichever event loop a request arrives on.
 */
public final class HttpListener extends VerticleBase {

  private final HttpServerOptions options;
  private final ConnectionGate gate;
  private final HttpApi api;

  /** {@code options} must name the same fixed port as the first server. */
  public HttpListener(HttpServerOptions options, ConnectionGate gate, HttpApi api) {
    this.options = options;
    this.gate = gate;
    this.api = api;
  }

  @Override
  public Future<?> start() {
    return listen(vertx, options, gate, api.router(vertx));
  }

  /** A server whose connections pass {@code gate} before {@code router} sees their requests. */
  public static Future<HttpServer> listen(Vertx vertx, HttpServerOptions options, ConnectionGate gate, Router router) {
    return vertx.createHttpServer(options)
        .connectionHandler(gate::opened)
        .invalidRequestHandler(HttpErrors::invalidRequest)
        .requestHandler(request -> {
          if (gate.admits(request)) {
            router.handle(request);
          }
        })
        .listen();
  }
}
