package io.dstream.broker.http;

import io.netty.handler.codec.http.TooLongHttpHeaderException;
import io.netty.handler.codec.http.TooLongHttpLineException;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

/** The one way HTTP errors are written: {@code {"error":{"code":..,"message":..}}} with a status. */
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
}
