package io.dstream.broker.durablestreams;

import io.dstream.broker.stream.StreamError;
import io.dstream.broker.auth.Permissions;
import io.dstream.broker.http.AuthenticationHandler;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.http.PathSegments;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.dstream.broker.stream.StreamRegistry;
import java.time.Clock;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * The Durable Streams HTTP protocol on {@code /v1/stream/{path}} (see docs/http.md): one handler
 * method per HTTP method; reads, appends and SSE have their own classes. Every answer, errors
 * included, carries the CORS and browser-security headers.
 */
public final class DurableStreamsApi {

  private static final Logger LOG = LoggerFactory.getLogger(DurableStreamsApi.class);
  static final String PREFIX = "/v1/stream/";

  private final StreamAccess access;
  private final CreateHandler creates;
  private final AppendHandler appends;
  private final ReadHandler reads;
  private final Subscriptions subscriptions;
  private final SubscriptionRoutes subscriptionRoutes;

  /**
   * Long-poll and SSE waits count in {@code metrics.longPollWaiters()} with the records API's, bounded
   * by {@code maxWaiters}; each wait lasts at most {@code longPollTimeoutMs}.
   */
  public DurableStreamsApi(Vertx vertx, StreamRegistry registry, Clock clock, BrokerMetrics metrics,
                           long longPollTimeoutMs, int maxWaiters, long readMaxBytes) {
    this.access = new StreamAccess(registry, clock, readMaxBytes, metrics.longPollWaiters(), maxWaiters);
    this.subscriptions = new Subscriptions(vertx, access);
    this.subscriptionRoutes = new SubscriptionRoutes(subscriptions);
    this.creates = new CreateHandler(access, subscriptions);
    this.appends = new AppendHandler(access, subscriptions);
    this.reads = new ReadHandler(access, longPollTimeoutMs);
  }


  /** The route handler for {@code /v1/stream/*}. */
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    HttpServerResponse response = ctx.response();
    commonHeaders(response);
    String path;
    try {
      path = PathSegments.decode(request.path().substring(PREFIX.length()));
    } catch (IllegalArgumentException e) {
      HttpErrors.send(response, 400, "invalid_path", "invalid stream path: " + e.getMessage());
      return;
    }
    String subject = StreamPaths.subject(path);
    if (request.method().name().equals("OPTIONS")) {
      response.setStatusCode(204).end();
      return;
    }
    String raw = request.path().substring(PREFIX.length());
    if (raw.equals(SubscriptionRoutes.CONTROL) || raw.startsWith(SubscriptionRoutes.CONTROL + "/")) {
      try {
        String subscription = subscriptionOf(raw);
        if (subscription != null && !permitted(ctx, StreamPaths.subject(SubscriptionRoutes.CONTROL + "/" + subscription))) {
          return;
        }
        subscriptionRoutes.handle(ctx, raw);
      } catch (IllegalArgumentException e) {
        HttpErrors.send(response, 400, "INVALID_REQUEST", e.getMessage());
      }
      return;
    }
    if (subject == null) {
      HttpErrors.send(response, 400, "invalid_path", "stream path is empty or too long");
      return;
    }
    if (!permitted(ctx, subject) || !forkSourcePermitted(ctx)) {
      return;
    }
    try {
      switch (request.method().name()) {
        case "PUT" -> creates.handle(ctx, path, subject);
        case "POST" -> appends.handle(ctx, path, subject);
        case "GET" -> reads.handleGet(ctx, path, subject);
        case "HEAD" -> reads.handleHead(ctx, path, subject);
        case "DELETE" -> handleDelete(ctx, path, subject);
        default -> HttpErrors.send(response, 405, "method_not_allowed", "method not allowed on a stream");
      }
    } catch (StreamError e) {
      fail(response, e);
    }
  }

  /**
   * The credential's scopes on the stream's subject: reads need subscribe, writes publish. Routes
   * authenticated by a wake token (no broker credential) and {@code jwks.json} need none.
   */
  private static boolean permitted(RoutingContext ctx, String subject) {
    Permissions permissions = AuthenticationHandler.permissions(ctx);
    if (permissions == null || subject == null) {
      return true;
    }
    String method = ctx.request().method().name();
    boolean read = method.equals("GET") || method.equals("HEAD");
    return AuthenticationHandler.require(ctx, read ? permissions.maySubscribe(subject) : permissions.mayPublish(subject),
        (read ? "read" : "write") + " '" + subject + "'");
  }

  /** A fork reads its source: creating one needs subscribe permission on the source too. */
  private static boolean forkSourcePermitted(RoutingContext ctx) {
    String source = ctx.request().getHeader(Protocol.FORKED_FROM);
    Permissions permissions = AuthenticationHandler.permissions(ctx);
    if (source == null || permissions == null || !ctx.request().method().name().equals("PUT")) {
      return true;
    }
    String sourceSubject = StreamPaths.subject(CreateHandler.sourcePath(source));
    return sourceSubject == null
        || AuthenticationHandler.require(ctx, permissions.maySubscribe(sourceSubject), "read '" + sourceSubject + "'");
  }

  /** {@code subscriptions/{id}} of a control path, or the path itself when it names no subscription. */
  private static String subscriptionOf(String rawControlPath) {
    String[] parts = rawControlPath.split("/", -1);
    if (parts.length >= 3 && parts[1].equals("subscriptions")) {
      return "subscriptions/" + PathSegments.decode(parts[2]);
    }
    return null;
  }

  /**
   * The subject a {@code /v1/stream/{path}} request path names, or null when it names none: the
   * reserved {@code __ds} paths, and paths that do not decode or map to no valid subject.
   */
  public static String subjectOf(String requestPath) {
    String raw = requestPath.substring(PREFIX.length());
    if (raw.equals(SubscriptionRoutes.CONTROL) || raw.startsWith(SubscriptionRoutes.CONTROL + "/")) {
      return null;
    }
    try {
      return StreamPaths.subject(PathSegments.decode(raw));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The CORS and browser-security headers every answer of the view carries. */
  public static void commonHeaders(HttpServerResponse response) {
    response.putHeader("Access-Control-Allow-Origin", "*")
        .putHeader("Access-Control-Allow-Methods", Protocol.ALLOW_METHODS)
        .putHeader("Access-Control-Allow-Headers", Protocol.ALLOW_HEADERS)
        .putHeader("Access-Control-Expose-Headers", Protocol.EXPOSE_HEADERS)
        .putHeader("X-Content-Type-Options", "nosniff")
        .putHeader("Cross-Origin-Resource-Policy", "cross-origin");
  }

  /** The view's one mapping of a failure: protocol refusals as sent, anything else as 503/500. */
  static void fail(HttpServerResponse response, Throwable failure) {
    StreamError error = StreamError.from(failure);
    if (error.kind() == StreamError.Kind.INTERNAL || error.kind() == StreamError.Kind.STORAGE) {
      LOG.error("Durable Streams request failed", failure);
      HttpErrors.send(response, 500, "internal", "internal error");
      return;
    }
    HttpErrors.send(response, error);
  }

  static StreamError notFound() {
    return StreamError.notFound("not_found", "stream not found");
  }

  static StreamError gone() {
    return StreamError.gone("gone", "stream was deleted (its forks still read it)");
  }

  /** {@code "base64(path):start:end[:c]"}: changes with the range read and with closing. */
  static String etag(String path, String start, String end, boolean closed) {
    return "\"" + Base64.getEncoder().encodeToString(path.getBytes(StandardCharsets.UTF_8)) + ":" + start + ":" + end
        + (closed ? ":c" : "") + "\"";
  }

  private void handleDelete(RoutingContext ctx, String path, String subject) {
    Context caller = Vertx.currentContext();
    access.call(subject, path, caller, (tx, meta) -> {
      if (meta == null) {
        throw notFound();
      }
      if (meta.softDeleted) {
        throw gone();
      }
      return StreamAccess.removeOrSoftDelete(tx, meta);
    }).compose(source -> {
      access.forget(path);
      subscriptions.streamDeleted(path);
      return access.releaseSource(source, caller);
    }).onSuccess(v -> ctx.response().setStatusCode(204).end())
        .onFailure(failure -> fail(ctx.response(), failure));
  }
}
