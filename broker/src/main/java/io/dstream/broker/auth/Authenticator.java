package io.dstream.broker.auth;

import io.vertx.core.Future;
import io.vertx.core.http.HttpServerRequest;

/**
 * Turns a request's credential into {@link Permissions}. The credential is taken from
 * {@code ?apiKey=}, {@code ?token=} (browser WebSockets cannot set headers),
 * {@code Authorization: Bearer ...} or the {@code auth} header, in that order. The broker's API key
 * grants everything; anything else must be a JWT valid for the configured key, when JWTs are
 * enabled. A request without any credential gets the {@link AnonymousAccess} permissions, if any.
 * Thread-safe.
 */
public final class Authenticator {

  private final ApiKeyAuthenticator apiKey;
  private final JwtAuthenticator jwt;
  private final Permissions anonymous;

  /** {@code jwt} is null when JWTs are not enabled. */
  public Authenticator(ApiKeyAuthenticator apiKey, JwtAuthenticator jwt, AnonymousAccess anonymousAccess) {
    this.apiKey = apiKey;
    this.jwt = jwt;
    this.anonymous = anonymousAccess.permissions();
  }

  /** Whether a client without any credential is let in (with the anonymous permissions). */
  public boolean allowsAnonymous() {
    return anonymous != null;
  }

  /** The credential the request presents, or null. */
  public static String presented(HttpServerRequest request) {
    String query = request.getParam("apiKey");
    if (query == null) {
      query = request.getParam("token");
    }
    if (query != null) {
      return query;
    }
    String authorization = request.getHeader("Authorization");
    if (authorization != null && authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return authorization.substring(7).trim();
    }
    return request.getHeader("auth");
  }

  /**
   * The request's permissions; fails with {@link AuthenticationException} (message safe to show the
   * client, never containing the credential) when there is no valid credential.
   */
  public Future<Permissions> authenticate(HttpServerRequest request) {
    return authenticate(presented(request));
  }

  /**
   * The permissions of {@code credential} (null: none presented), as for a request (the NATS
   * protocol presents its token in {@code CONNECT}).
   */
  public Future<Permissions> authenticate(String credential) {
    if (credential == null && anonymous != null) {
      return Future.succeededFuture(anonymous);
    }
    if (credential == null) {
      return Future.failedFuture(new AuthenticationException(
          "credentials required: ?apiKey=, ?token=, Authorization: Bearer <key or JWT>, or an auth header"));
    }
    if (apiKey.matches(credential)) {
      return Future.succeededFuture(Permissions.FULL);
    }
    if (jwt == null) {
      return Future.failedFuture(new AuthenticationException("invalid credentials"));
    }
    return jwt.verify(credential).recover(failure ->
        Future.failedFuture(new AuthenticationException("invalid token: " + failure.getMessage())));
  }
}
