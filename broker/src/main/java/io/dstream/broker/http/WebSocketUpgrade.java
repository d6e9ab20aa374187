package io.dstream.broker.http;

import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;

/** The one test of whether a request asks to become a WebSocket (the v1 and NATS upgrades, and the relay's). */
public final class WebSocketUpgrade {

  private WebSocketUpgrade() {
  }

  /** A {@code GET} with {@code Upgrade: websocket}. */
  public static boolean requested(HttpServerRequest request) {
    return request.method() == HttpMethod.GET && "websocket".equalsIgnoreCase(request.getHeader("Upgrade"));
  }
}
