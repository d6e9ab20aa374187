package io.dstream.broker.router;

import io.dstream.broker.http.AuthenticationHandler;
import io.dstream.broker.http.BodyBudget;
import io.dstream.broker.http.ClientAddresses;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.http.PathSegments;
import io.dstream.broker.http.WebSocketUpgrade;
import io.dstream.broker.admin.AdminApi;
import io.dstream.broker.auth.Authenticator;
import io.dstream.broker.auth.Permissions;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.console.Console;
import io.dstream.broker.durablestreams.DurableStreamsApi;
import io.dstream.broker.files.FilesApi;
import io.dstream.broker.health.Readiness;
import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.nats.NatsServer;
import io.dstream.broker.records.RecordsHandler;
import io.dstream.broker.relay.LeaderRelay;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.Subjects;
import io.dstream.broker.ws.V1Endpoint;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.function.BiPredicate;

/**
 * The one HTTP port: the router is built once with a handler method per route. Authentication
 * runs before anything but {@code /health}, so a bad credential is a 401 before any upgrade. In
 * cluster mode the subject routes first offer each request to the {@link LeaderRelay}.
 */
public final class HttpApi {

  private static final Logger LOG = LoggerFactory.getLogger(HttpApi.class);
  private static final String STREAM_PREFIX = "/stream/";
  private static final String DURABLE_NAMESPACE = "ds.";
  private static final String FORM = "application/x-www-form-urlencoded";
  /** Subscription routes that their own wake token authenticates (the consumer need not hold a broker credential). */
  private static final String WAKE_TOKEN_ROUTES = "/v1/stream/__ds/subscriptions/[^/]+/(callback|ack|release)";

  private final AuthenticationHandler authentication;
  private final ClientAddresses clientAddresses;
  private final V1Endpoint v1;
  private final RecordsHandler records;
  private final BrokerMetrics metrics;
  private final DurableStreamsApi durableStreams;
  private final int maxAppendBytes;
  private final FilesApi files;
  private final AdminApi admin;
  private final MemoryBudget memoryBudget;
  private final int maxRecordsBodyBytes;
  private final Readiness readiness;
  private final NatsServer nats;
  private final LeaderRelay relay;

  /** {@code relay}: cluster mode's relay to subjects' leaders; null on a single node. */
  public HttpApi(Authenticator authenticator, NatsServer nats, ClientAddresses clientAddresses, V1Endpoint v1,
                 RecordsHandler records, BrokerMetrics metrics, DurableStreamsApi durableStreams, BrokerConfig config,
                 FilesApi files, AdminApi admin, MemoryBudget memoryBudget, Readiness readiness, LeaderRelay relay) {
    this.authentication = new AuthenticationHandler(authenticator, metrics.unauthenticated);
    this.nats = nats;
    this.clientAddresses = clientAddresses;
    this.v1 = v1;
    this.records = records;
    this.metrics = metrics;
    this.durableStreams = durableStreams;
    this.maxAppendBytes = config.maxAppendBytes();
    this.maxRecordsBodyBytes = config.maxRecordsBodyBytes();
    this.files = files;
    this.admin = admin;
    this.readiness = readiness;
    this.memoryBudget = memoryBudget;
    this.relay = relay;
  }

  public Router router(Vertx vertx) {
    Router router = Router.router(vertx);
    router.route().handler(this::handleMalformed);
    router.get("/health").handler(this::handleHealth);
    router.get("/health/ready").handler(readiness::handle);
    // A share link is its own credential for the one file it names.
    router.getWithRegex("/r2/.+").handler(ctx -> files.handleShared(ctx, clientAddresses.resolve(ctx.request())));
    router.headWithRegex("/r2/.+").handler(ctx -> files.handleShared(ctx, clientAddresses.resolve(ctx.request())));
    new Console().mount(router);
    // CORS preflights never carry credentials; they reveal nothing and change nothing.
    router.options("/v1/stream/*").handler(durableStreams::handle);
    // The budget is taken on routes of its own: Vert.x allows no handler before a body handler on one route.
    BodyBudget appendBudget = new BodyBudget(memoryBudget, maxAppendBytes, metrics);
    router.postWithRegex(WAKE_TOKEN_ROUTES).handler(appendBudget);
    router.postWithRegex(WAKE_TOKEN_ROUTES).handler(BodyHandler.create(false).setBodyLimit(maxAppendBytes))
        .handler(durableStreams::handle);
    // NATS clients authenticate in the protocol's CONNECT, after the upgrade (nats.ws sends no header).
    router.get("/nats").handler(this::handleNats);
    router.route().handler(authentication);
    if (relay != null) {
      // Before the body handlers: a relayed body streams to the leader instead of being buffered here.
      router.route("/stream/*").handler(this::relayStream);
      router.route("/v1/stream/*").handler(this::relayDurableStream);
    }
    router.get("/metrics").handler(this::handleMetrics);
    router.post("/stream/*").handler(HttpApi::jsonUnlessDeclared);
    router.post("/stream/*").handler(new BodyBudget(memoryBudget, maxRecordsBodyBytes, metrics));
    router.post("/stream/*").handler(records.bodyHandler());
    router.route("/stream/*").handler(this::handleStream);
    router.put("/v1/stream/*").handler(appendBudget);
    router.post("/v1/stream/*").handler(appendBudget);
    router.put("/v1/stream/*").handler(BodyHandler.create(false).setBodyLimit(maxAppendBytes));
    router.post("/v1/stream/*").handler(BodyHandler.create(false).setBodyLimit(maxAppendBytes));
    router.route("/v1/stream/*").handler(durableStreams::handle);
    router.route("/r2/*").handler(ctx -> files.handle(ctx, clientAddresses.resolve(ctx.request())));
    router.route("/admin/*").handler(this::handleAdminPermission);
    if (relay != null) {
      // An operator's writes to a subject go through its actor, on its leader. Its summary (with the
      // subscribers, which only the leader has) comes from the leader too, or from this node's
      // replica while the subject has none. The message listing always reads this node's replica.
      router.delete("/admin/subjects/:subject/messages").handler(ctx -> relayAdmin(ctx, relay::relayed));
      router.put("/admin/subjects/:subject/state").handler(ctx -> relayAdmin(ctx, relay::relayed));
      router.get("/admin/subjects/:subject").handler(ctx -> relayAdmin(ctx, relay::relayedIfLed));
    }
    admin.mount(router);
    router.route().handler(ctx -> HttpErrors.send(ctx.response(), 404, "not_found", "no route for " + ctx.request().path()));
    router.route().failureHandler(this::handleFailure);
    router.errorHandler(400, ctx -> HttpErrors.send(ctx.response(), 400, "bad_request",
        "malformed request: the URL or a header could not be parsed (invalid percent-encoding?)"));
    return router;
  }

  /**
   * Refuses what the routes cannot be trusted with: a query string that does not decode (every
   * route reads its parameters, the credential first) and {@code .}/{@code ..} path segments,
   * which the router would resolve to another route.
   */
  private void handleMalformed(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    try {
      request.params();
    } catch (IllegalArgumentException e) {
      HttpErrors.send(ctx.response(), 400, "bad_request", "malformed query string: " + e.getMessage());
      return;
    }
    if (PathSegments.hasDotSegment(request.path())) {
      HttpErrors.send(ctx.response(), 400, "invalid_path", "a path may not contain '.' or '..' segments");
      return;
    }
    ctx.next();
  }

  private void handleNats(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (!WebSocketUpgrade.requested(request)) {
      HttpErrors.send(ctx.response(), 400, "bad_request", "/nats is the NATS protocol over WebSocket: upgrade to it");
      return;
    }
    nats.upgrade(request, clientAddresses.resolve(request));
  }

  private void handleHealth(RoutingContext ctx) {
    ctx.response().putHeader("Content-Type", "application/json").end("{\"status\":\"ok\"}");
  }

  /**
   * Records API bodies are JSON whatever their declared type: {@code curl -d} declares a form
   * ({@code application/x-www-form-urlencoded}), which the body handler would otherwise parse as
   * form fields, refusing bodies over its form limits and losing the JSON.
   */
  private static void jsonUnlessDeclared(RoutingContext ctx) {
    String type = ctx.request().getHeader(HttpHeaders.CONTENT_TYPE);
    if (type != null && type.regionMatches(true, 0, FORM, 0, FORM.length())) {
      ctx.request().headers().set(HttpHeaders.CONTENT_TYPE, "application/json");
    }
    ctx.next();
  }

  private void handleMetrics(RoutingContext ctx) {
    if (!AuthenticationHandler.require(ctx, AuthenticationHandler.permissions(ctx).admin(), "read metrics")) {
      return;
    }
    ctx.response().putHeader("Content-Type", "text/plain; version=0.0.4; charset=utf-8").end(metrics.scrape());
  }

  private void handleAdminPermission(RoutingContext ctx) {
    if (AuthenticationHandler.require(ctx, AuthenticationHandler.permissions(ctx).admin(), "call the admin API")) {
      ctx.next();
    }
  }

  /** A request for a valid subject goes to the subject's leader unless this node leads it; anything else on. */
  private void relayStream(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    String subject;
    try {
      subject = PathSegments.decode(request.path().substring(STREAM_PREFIX.length()));
    } catch (IllegalArgumentException e) {
      ctx.next();
      return;
    }
    // What is invalid here is answered by handleStream, as on a single node.
    boolean valid = violation(subject) == null && (!WebSocketUpgrade.requested(request) || isUri(request.uri()));
    if (!valid || !relay.relayed(ctx, subject)) {
      ctx.next();
    }
  }

  private void relayDurableStream(RoutingContext ctx) {
    String subject = DurableStreamsApi.subjectOf(ctx.request().path());
    if (subject == null) {
      ctx.next();
      return;
    }
    // An answer of this node (a 503) carries the view's CORS headers too; a relayed one gets the leader's.
    DurableStreamsApi.commonHeaders(ctx.response());
    if (!relay.relayed(ctx, subject)) {
      ctx.next();
    }
  }

  /** An admin subject route through {@code relaying}; served here (the next handler) when it relays nothing. */
  private static void relayAdmin(RoutingContext ctx, BiPredicate<RoutingContext, String> relaying) {
    String subject = ctx.pathParam("subject");
    if (Subjects.violation(subject) != null || !relaying.test(ctx, subject)) {
      ctx.next();
    }
  }

  private static String violation(String subject) {
    return subject.startsWith(DURABLE_NAMESPACE)
        ? "subjects under '" + DURABLE_NAMESPACE + "' hold Durable Streams streams: use /v1/stream/{path}"
        : Subjects.violation(subject);
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
    String violation = violation(subject);
    if (violation != null) {
      HttpErrors.send(ctx.response(), 400, "invalid_subject", violation);
      return;
    }
    if (WebSocketUpgrade.requested(request)) {
      if (!isUri(request.uri())) {
        // Vert.x's handshake would answer a plain-text 400 for it.
        HttpErrors.send(ctx.response(), 400, "bad_request", "the request URI is not a valid URI");
        return;
      }
      Permissions permissions = AuthenticationHandler.permissions(ctx);
      if (!AuthenticationHandler.require(ctx, permissions.mayAttach(subject), "publish to or subscribe to '" + subject + "'")) {
        return;
      }
      v1.upgrade(request, subject, clientAddresses.resolve(request), permissions).onFailure(e -> {
        StreamError error = StreamError.from(e);
        if (error.kind() == StreamError.Kind.OVERLOADED) {
          HttpErrors.send(ctx.response(), error);
          return;
        }
        LOG.error("attaching a socket to '{}' failed", subject, e);
        HttpErrors.send(ctx.response(), 500, "internal", "the subject's stream could not be reached");
      });
      return;
    }
    HttpMethod method = request.method();
    if (method == HttpMethod.GET || method == HttpMethod.POST || method == HttpMethod.DELETE) {
      records.handle(ctx, subject, clientAddresses.resolve(request));
      return;
    }
    ctx.response().putHeader("Allow", "GET, POST, DELETE");
    HttpErrors.send(ctx.response(), 405, "method_not_allowed",
        "/stream/{subject} takes GET (records, or a WebSocket upgrade), POST (append records) and DELETE");
  }

  private static boolean isUri(String uri) {
    try {
      new URI(uri);
      return true;
    } catch (URISyntaxException e) {
      return false;
    }
  }

  private void handleFailure(RoutingContext ctx) {
    if (ctx.statusCode() == 413) {
      HttpErrors.send(ctx.response(), 413, "payload_too_large", "the request body is larger than the broker accepts");
      return;
    }
    if (ctx.statusCode() > 0 && ctx.statusCode() < 500) {
      HttpErrors.send(ctx.response(), ctx.statusCode(), "bad_request", "request refused");
      return;
    }
    LOG.error("request {} {} failed", ctx.request().method(), ctx.request().path(), ctx.failure());
    HttpErrors.send(ctx.response(), 500, "internal", "internal error");
  }
}
