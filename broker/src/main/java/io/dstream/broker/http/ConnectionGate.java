package io.dstream.broker.http;

import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.metrics.BrokerMetrics;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerRequest;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Enforces {@code maxConnections} and the request-head deadline. A connection over the limit is not
 * cut silently: its first request is answered 503 with {@code Connection: close}, so the client
 * learns why. A connection that has not completed its first request head within
 * {@code requestHeaderTimeout} (slowloris) is closed. Thread-safe: connections open and close on
 * every event loop.
 */
public final class ConnectionGate {

  private final int maxConnections;
  private final long requestHeaderTimeoutMs;
  private final BrokerMetrics metrics;
  private final AtomicInteger open = new AtomicInteger();
  private final Set<HttpConnection> tracked = ConcurrentHashMap.newKeySet();
  private final Set<HttpConnection> refused = ConcurrentHashMap.newKeySet();
  private final Map<HttpConnection, Long> awaitingFirstRequest = new ConcurrentHashMap<>();

  public ConnectionGate(ConnectionLimits limits, BrokerMetrics metrics) {
    this.maxConnections = limits.maxConnections();
    this.requestHeaderTimeoutMs = limits.requestHeaderTimeout().toMillis();
    this.metrics = metrics;
    Gauge.builder("dstream_connections", open, AtomicInteger::get)
        .description("Open HTTP, WebSocket and NATS connections").register(metrics.registry());
  }

  /** Counts a new connection; one beyond the limit is marked to be refused. */
  public void opened(HttpConnection connection) {
    tracked.add(connection);
    if (open.incrementAndGet() > maxConnections) {
      refused.add(connection);
      metrics.connectionsRefused.increment();
    }
    connection.closeHandler(v -> release(connection));
    Vertx vertx = Vertx.currentContext().owner();
    awaitingFirstRequest.put(connection, vertx.setTimer(requestHeaderTimeoutMs, id -> {
      if (awaitingFirstRequest.remove(connection) != null) {
        metrics.slowRequestsClosed.increment();
        connection.close();
      }
    }));
  }

  /**
   * An upgraded connection no longer reports its close to its {@link HttpConnection} handlers, so
   * the WebSocket must run the returned action when it closes.
   */
  public Runnable upgraded(HttpConnection connection) {
    return () -> release(connection);
  }

  private void release(HttpConnection connection) {
    refused.remove(connection);
    awaitingFirstRequest.remove(connection);
    if (tracked.remove(connection)) {
      open.decrementAndGet();
    }
  }

  /**
   * Counts a connection that is not HTTP (a NATS client on its TCP port); false, with nothing
   * counted, when the broker already holds its maximum. The caller runs {@link #closedOther} when it closes.
   */
  public boolean openOther() {
    if (open.incrementAndGet() > maxConnections) {
      open.decrementAndGet();
      metrics.connectionsRefused.increment();
      return false;
    }
    return true;
  }

  /** A connection counted by {@link #openOther} closed. */
  public void closedOther() {
    open.decrementAndGet();
  }

  /** The most connections the broker holds. */
  public int maxConnections() {
    return maxConnections;
  }

  /** False (after answering 503) for a request on a refused connection. */
  public boolean admits(HttpServerRequest request) {
    Long headerTimer = awaitingFirstRequest.remove(request.connection());
    if (headerTimer != null) {
      Vertx.currentContext().owner().cancelTimer(headerTimer);
    }
    if (!refused.contains(request.connection())) {
      return true;
    }
    request.response().putHeader("Connection", "close");
    HttpErrors.send(request.response(), 503, "too_many_connections",
        "the broker holds its maximum of " + maxConnections + " connections; retry later");
    return false;
  }
}
