package io.dstream.broker.http;

import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServerOptions;

/**
 * One more HTTP server on the broker's port, on its own event loop. Vert.x hands the connections
 * accepted on a shared port to its servers in turn, so with one listener per event loop the sockets,
 * and their framing and frame parsing, use every core instead of the one event loop that a single
 * server runs on (which held every WebSocket of the broker before; see docs/benchmarks.md).
 */
public final class HttpListener extends VerticleBase {

  private final HttpServerOptions options;
  private final HttpApi api;

  /** {@code options} must name the same fixed port as the first server. */
  public HttpListener(HttpServerOptions options, HttpApi api) {
    this.options = options;
    this.api = api;
  }

  @Override
  public Future<?> start() {
    return vertx.createHttpServer(options).requestHandler(api.router(vertx)).listen();
  }
}
