package io.dstream.broker.http;

import io.dstream.broker.auth.ApiKeyAuthenticator;
import io.dstream.broker.files.FilesApi;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.Subjects;
import io.dstream.broker.ws.V1Endpoint;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one HTTP port: the router is built once with a handler method per route. Authentication
 * runs before anything but {@code /health}, so a bad credential is a 401 before any upgrade.
 */
public final class HttpApi {

  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final String STREAM_PREFIX = "/stream/";

  private final ApiKeyAuthenticator authenticator;
  private final ClientAddresses clientAddresses;
  private final V1Endpoint v1;
  private final BrokerMetrics metrics;
  private final FilesApi files;

  public HttpApi(ApiKeyAuthenticator authenticator, ClientAddresses clientAddresses, V1Endpoint v1,
                 BrokerMetrics metrics, FilesApi files) {
    this.authenticator = authenticator;
    this.clientAddresses = clientAddresses;
    this.v1 = v1;
    this.metrics = metrics;
    this.files = files;
  }

  public Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    router.get("/health").handler(this::handleHealth);
    router.route().handler(this::handleAuthentication);
    router.get("/metrics").handler(this::handleMetrics);
    router.route("/stream/*").handler(this::handleStream);
    router.route("/r2/*").handler(files::handle);
    router.route().handler(ctx -> HttpErrors.send(ctx.response(), 404, "not_found", "no route for " + ctx.request().path()));
    router.route().failureHandler(this::handleFailure);
    router.errorHandler(400, ctx -> HttpErrors.send(ctx.response(), 400, "bad_request", "malformed request"));
    return router;
  }

  private void handleHealth(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "application/json").end("{\"status\":\"ok\"}");
  }

  private void handleAuthentication(RoutingContext ctx) {
    if (authenticator.authenticates(ctx.request())) {
      ctx.next();
      return;
    }
    boolean presented = ApiKeyAuthenticator.presented(ctx.request()) != null;
    HttpErrors.send(ctx.response(), 401, "unauthorized", presented ? "invalid credentials"
        : "credentials required: ?apiKey=, Authorization: Bearer <key>, or an auth header");
  }

  private void handleMetrics(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape());
  }

  private void handleStream(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String subject;
    try {
      subject = PathSegments.decode(request.path().substring(STREAM_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_subject", "invalid subject: " + e.getMessage());
      return;
    }
    String violation = Subjects.violation(subject);
    if (violation != null) {
      HttpErrors.send(ctx.response(), 400, "invalid_subject", violation);
      return;
    }
    if (request.method() == HttpMethod.GET && "websocket".equalsIgnoreCase(request.getHeader("Upgrade"))) {
      v1.upgrade(request, subject, clientAddresses.resolve(request)).onFailure(e -> {
        LOG.error("attaching a socket to '{}' failed", subject, e);
        HttpErrors.send(ctx.response(), 500, "internal", "the subject's stream could not be reached");
      });
      return;
    }
    HttpErrors.send(ctx.response(), 426, "upgrade_required",
        "/stream/{subject} speaks WebSocket protocol v1: send a WebSocket upgrade");
  }

  private void handleFailure(RoutingContext ctx) {
    if (ctx.statusCode() > 0 && ctx.statusCode() < 500) {
      HttpErrors.send(ctx.response(), ctx.statusCode(), "bad_request", "request refused");
      return;
    }
    LOG.error("request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
    HttpErrors.send(ctx.response(), 500, "internal", "internal error");
  }
}
