package io.dstream.client.impl;

import io.dstream.client.AuthenticationException;
import io.dstream.client.ClientOptions;
import io.dstream.client.StreamException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.util.Locale;

/**
 * Where one subject's WebSocket lives, {@code ws(s)://HOST:PORT[/prefix]/stream/{subject}?apiKey=KEY},
 * and how a refused upgrade reads as an exception.
 *
 * @param description the endpoint without credentials, safe to put in messages and logs
 */
record Endpoint(WebSocketConnectOptions connectOptions, String description) {

  static Endpoint of(ClientOptions options, String subject) {
    URI url = options.url();
    String scheme = url.getScheme().toLowerCase(Locale.ROOT);
    boolean ssl = scheme.equals("https") || scheme.equals("wss");
    int port = url.getPort() != -1 ? url.getPort() : ssl ? 443 : 80;
    String host = url.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    String prefix = url.getRawPath() == null ? "" : url.getRawPath().replaceAll("/+$", "");
    String path = prefix + "/stream/" + Protocol.percentEncode(subject);
    String uri = options.apiKey() == null ? path : path + "?apiKey=" + Protocol.percentEncode(options.apiKey());
    long timeoutMillis = options.connectTimeout().toMillis();
    WebSocketConnectOptions connectOptions = new WebSocketConnectOptions()
        .setHost(host)
        .setPort(port)
        .setSsl(ssl)
        .setURI(uri)
        .setConnectTimeout(timeoutMillis)
        .setTimeout(timeoutMillis);
    return new Endpoint(connectOptions, (ssl ? "wss://" : "ws://") + url.getRawAuthority() + path);
  }

  /** Turns a failed connect into the exception {@link io.dstream.client.DurableStream} documents. */
  StreamException connectFailure(Throwable cause) {
    if (!(cause instanceof UpgradeRejectedException rejected)) {
      return new StreamException(StreamException.CONNECT_FAILED,
          "cannot connect to " + description + ": " + cause.getMessage(), cause);
    }
    int status = rejected.getStatus();
    JsonObject error = errorObject(rejected.getBody());
    String detail = error != null ? error.getString(Protocol.ERROR_MESSAGE, "")
        : rejected.getBody() == null ? "" : rejected.getBody().toString();
    String message = "broker refused " + description + " with HTTP " + status + (detail.isEmpty() ? "" : ": " + detail);
    if (status == 401) {
      String code = error != null ? error.getString(Protocol.ERROR_CODE, AuthenticationException.UNAUTHORIZED)
          : AuthenticationException.UNAUTHORIZED;
      return new AuthenticationException(code, message);
    }
    String code = error != null ? error.getString(Protocol.ERROR_CODE, "http_" + status) : "http_" + status;
    return new StreamException(code, message);
  }

  /** @return the {@code error} object of a JSON error body, or null for any other body */
  private static JsonObject errorObject(Buffer body) {
    if (body == null || body.length() == 0) {
      return null;
    }
    try {
      Object error = new JsonObject(body).getValue(Protocol.ERROR);
      return error instanceof JsonObject object ? object : null;
    } catch (DecodeException | ClassCastException e) {
      return null;
    }
  }
}
