package io.dstream.broker.auth;

import io.dstream.broker.config.JwtSettings;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.User;
import io.vertx.ext.auth.authentication.TokenCredentials;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;

import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * Verifies JWT bearer tokens with Vert.x auth-jwt (signature, {@code exp}, {@code nbf}, and the
 * configured {@code iss}/{@code aud}) and turns the namespaced {@code dstream} claim into
 * {@link Permissions}:
 * <pre>{"dstream": {"pub": ["orders.>"], "sub": ["orders.*"], "files": {"read": ["public/"], "write": []}, "admin": false}}</pre>
 * A missing claim grants nothing; a malformed one (a pattern that does not parse, a wrong type)
 * makes the token invalid. Thread-safe.
 */
public final class JwtAuthenticator {

  static final String CLAIM = "dstream";

  private final JWTAuth provider;

  private JwtAuthenticator(JWTAuth provider) {
    this.provider = provider;
  }

  public static JwtAuthenticator create(Vertx vertx, JwtSettings settings) {
    PubSecKeyOptions key = settings.secret() != null
        ? new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(settings.secret())
        : new PubSecKeyOptions().setAlgorithm(algorithmOf(settings.publicKeyPem())).setBuffer(settings.publicKeyPem());
    JWTOptions checks = new JWTOptions();
    if (settings.issuer() != null) {
      checks.setIssuer(settings.issuer());
    }
    if (!settings.audience().isEmpty()) {
      checks.setAudience(settings.audience());
    }
    return new JwtAuthenticator(JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(key).setJWTOptions(checks)));
  }

  /** RS256 for an RSA key, ES256 for an EC key; anything else is a configuration error. */
  static String algorithmOf(String pem) {
    String base64 = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
    byte[] der;
    try {
      der = Base64.getDecoder().decode(base64);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("the JWT public key is not PEM: " + e.getMessage(), e);
    }
    for (String[] candidate : new String[][] {{"RSA", "RS256"}, {"EC", "ES256"}}) {
      try {
        KeyFactory.getInstance(candidate[0]).generatePublic(new X509EncodedKeySpec(der));
        return candidate[1];
      } catch (java.security.GeneralSecurityException notThisType) {
        // try the next key type
      }
    }
    throw new IllegalArgumentException("the JWT public key is neither an RSA nor an EC public key (PEM 'PUBLIC KEY')");
  }

  /** The token's permissions, or a failure saying why the token is refused. */
  public Future<Permissions> verify(String token) {
    Future<User> authenticated;
    try {
      authenticated = provider.authenticate(new TokenCredentials(token));
    } catch (RuntimeException e) {
      authenticated = Future.failedFuture(e);
    }
    return authenticated.recover(JwtAuthenticator::explained).compose(user -> {
      // The principal drops exp/iat/nbf; the verified payload is kept whole under accessToken.
      JsonObject claims = user.attributes().getJsonObject("accessToken", user.principal());
      try {
        return Future.succeededFuture(permissions(claims));
      } catch (ClassCastException | IllegalArgumentException e) {
        return Future.failedFuture(new IllegalArgumentException("malformed '" + CLAIM + "' claim: " + e.getMessage()));
      }
    });
  }

  /**
   * auth-jwt reads {@code exp}, {@code nbf} and {@code iat} as numbers and throws a
   * ClassCastException (sometimes out of {@code authenticate} itself) when one is not: that is the
   * token's fault, said so, rather than an internal error.
   */
  private static Future<User> explained(Throwable failure) {
    if (failure instanceof ClassCastException) {
      return Future.failedFuture(new IllegalArgumentException("a time claim (exp, nbf, iat) is not a number"));
    }
    return Future.failedFuture(failure);
  }

  static Permissions permissions(JsonObject claims) {
    String who = claims.getString("sub", "jwt");
    Object exp = claims.getValue("exp");
    if (exp != null && !(exp instanceof Number)) {
      throw new IllegalArgumentException("the exp claim is not a number");
    }
    long expiresAtMs = exp == null ? Long.MAX_VALUE : ((Number) exp).longValue() * 1000;
    JsonObject grant = claims.getJsonObject(CLAIM);
    if (grant == null) {
      return new Permissions(who, List.of(), List.of(), List.of(), List.of(), false, expiresAtMs);
    }
    JsonObject files = grant.getJsonObject("files", new JsonObject());
    return new Permissions(who, patterns(grant.getJsonArray("pub")), patterns(grant.getJsonArray("sub")),
        strings(files.getJsonArray("read")), strings(files.getJsonArray("write")),
        grant.getBoolean("admin", false), expiresAtMs);
  }

  private static List<SubjectPattern> patterns(JsonArray array) {
    List<SubjectPattern> patterns = new ArrayList<>();
    for (String text : strings(array)) {
      patterns.add(SubjectPattern.parse(text));
    }
    return patterns;
  }

  private static List<String> strings(JsonArray array) {
    List<String> values = new ArrayList<>();
    if (array != null) {
      for (int i = 0; i < array.size(); i++) {
        values.add(array.getString(i));
      }
    }
    return values;
  }
}
