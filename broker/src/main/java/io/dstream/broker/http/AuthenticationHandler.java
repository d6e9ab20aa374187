package io.dstream.broker.http;

import io.dstream.broker.auth.AuthenticationException;
import io.dstream.broker.auth.Authenticator;
import io.dstream.broker.auth.Permissions;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Router step before every route but {@code /health}: authenticates the request and keeps its
 * {@link Permissions} in the routing context for the views, or answers 401 before anything else
 * (in particular before any WebSocket upgrade) happens.
 */
public final class AuthenticationHandler implements Handler<RoutingContext> {

  private static final Logger LOG = LoggerFactory.getLogger(AuthenticationHandler.class);
  private static final String PERMISSIONS = "dstream.permissions";

  private final Authenticator authenticator;
  private final Counter refused;

  /** {@code refused} counts the requests this step answers 401. */
  public AuthenticationHandler(Authenticator authenticator, Counter refused) {
    this.authenticator = authenticator;
    this.refused = refused;
  }

  /** The permissions of an authenticated request. */
  public static Permissions permissions(RoutingContext ctx) {
    return ctx.get(PERMISSIONS);
  }

  /** Grants {@code permissions} to a request that proved them otherwise than by a credential (a share link). */
  public static void grant(RoutingContext ctx, Permissions permissions) {
    ctx.put(PERMISSIONS, permissions);
  }

  @Override
  public void handle(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    Future<Permissions> permissions = authenticator.authenticate(request);
    if (permissions.isComplete()) {
      proceed(ctx, permissions);
      return;
    }
    // A body or upgrade must not start flowing before a route has taken the request over. The
    // resumed request delivers buffered data only on a later turn, after next() installed handlers.
    request.pause();
    permissions.onComplete(done -> {
      request.resume();
      proceed(ctx, permissions);
    });
  }

  private void proceed(RoutingContext ctx, Future<Permissions> permissions) {
    if (permissions.succeeded()) {
      ctx.put(PERMISSIONS, permissions.result());
      ctx.next();
      return;
    }
    Throwable failure = permissions.cause();
    if (!(failure instanceof AuthenticationException)) {
      LOG.error("authenticating {} {} failed", ctx.request().method(), ctx.request().path(), failure);
    } else {
      LOG.info("refused {} {} from {}: {}", ctx.request().method(), ctx.request().path(),
          ctx.request().remoteAddress(), failure.getMessage());
    }
    refused.increment();
    HttpErrors.send(ctx.response(), 401, "unauthorized", failure instanceof AuthenticationException
        ? failure.getMessage() : "credentials could not be checked");
  }

  /** Answers 403 unless {@code allowed}; logs the refusal with who, never the credential. */
  public static boolean require(RoutingContext ctx, boolean allowed, String what) {
    if (allowed) {
      return true;
    }
    LOG.info("forbidden: {} may not {} ({} {})", permissions(ctx).who(), what, ctx.request().method(), ctx.request().path());
    HttpErrors.send(ctx.response(), 403, "forbidden", "this credential may not " + what);
    return false;
  }
}
