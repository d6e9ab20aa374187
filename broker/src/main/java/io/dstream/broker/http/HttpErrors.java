package io.dstream.broker.http;

import io.dstream.broker.stream.StreamError;
import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/**
 * The one way HTTP errors are written: {@code {"error":{"code":..,"message":..}}} with a status, and
 * the one mapping of a {@link StreamError} onto HTTP that the HTTP views build on.
 */
public final class HttpErrors {

  private HttpErrors() {
  }

  /**
   * Answers a request Vert.x could not decode (the server's invalid-request handler) as every other
   * error, JSON with the status Vert.x would have sent, then closes the connection: what follows a
   * broken request head cannot be trusted.
   */
  public static void invalidRequest(HttpServerRequest request) {
    Throwable cause = request.decoderResult().cause();
    HttpServerResponse response = request.response();
    if (cause instanceof TooLongHttpLineException) {
      send(response, 414, "uri_too_long", "the request line is longer than the broker accepts");
    } else if (cause instanceof TooLongHttpHeaderException) {
      send(response, 431, "headers_too_large", "the request headers are larger than the broker accepts");
    } else {
      send(response, 400, "bad_request", "malformed request: " + (cause == null ? "invalid request" : cause.getMessage()));
    }
    request.connection().close();
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
    if (retry) {
      sendRetryLater(response, error.code(), error.getMessage());
    } else {
      send(response, status(error.kind()), error.code(), error.getMessage());
    }
  }

  /** A 503 worth retrying: {@code Retry-After: 1}, its code and message. */
  public static void sendRetryLater(HttpServerResponse response, String code, String message) {
    if (!response.ended() && !response.closed()) {
      response.putHeader("Retry-After", "1");
    }
    send(response, 503, code, message);
  }

  /** The HTTP status of each kind of failure. */
  public static int status(StreamError.Kind kind) {
    return switch (kind) {
      case INVALID -> 400;
      case NOT_FOUND -> 404;
      case CONFLICT, FENCED, LIMIT_REACHED -> 409;
      case TOO_LARGE -> 413;
      case GONE -> 410;
      case OVERLOADED, UNAVAILABLE -> 503;
      case STORAGE, INTERNAL -> 500;
    };
  }
}
