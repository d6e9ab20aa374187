package io.dstream.broker.http;

import io.dstream.broker.stream.StreamError;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * The one way HTTP errors are written: {@code {"error":{"code":..,"message":..}}} with a status, and
 * the one mapping of a {@link StreamError} onto HTTP that the HTTP views build on.
 */
public final class HttpErrors {

  private HttpErrors() {
  }

  public static void send(HttpServerResponse response, int status, String code, String message) {
    if (response.ended() || response.closed()) {
      return;
    }
    response.setStatusCode(status)
        .putHeader("Content-Type", "application/json")
        .end(new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)).encode());
  }

  /** A failed request: its status by kind, {@code Retry-After: 1} when worth retrying, its code and message. */
  public static void send(HttpServerResponse response, StreamError error) {
    boolean retry = error.kind() == StreamError.Kind.OVERLOADED || error.kind() == StreamError.Kind.UNAVAILABLE;
    if (retry && !response.ended() && !response.closed()) {
      response.putHeader("Retry-After", "1");
    }
    send(response, status(error.kind()), error.code(), error.getMessage());
  }

  /** The HTTP status of each kind of failure. */
  public static int status(StreamError.Kind kind) {
    return switch (kind) {
      case INVALID -> 400;
      case NOT_FOUND -> 404;
      case CONFLICT, FENCED -> 409;
      case GONE -> 410;
      case OVERLOADED, UNAVAILABLE -> 503;
      case STORAGE, INTERNAL -> 500;
    };
  }
}
