package io.dstream.client.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;

import io.dstream.client.AuthenticationException;
import io.dstream.client.ClientOptions;
import io.dstream.client.StreamException;
import io.vertx.core.MultiMap;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.UpgradeRejectedException;
import io.vertx.core.http.WebSocketConnectOptions;
import org.junit.jupiter.api.Test;

class EndpointTest {

  @Test
  void buildsTheStreamPathWithEncodedSubjectAndKey() {
    ClientOptions options = ClientOptions.builder().url("https://broker.example/base/").apiKey("k+y/=").build();

    Endpoint endpoint = Endpoint.of(options, "orders.eu ü");
    WebSocketConnectOptions connect = endpoint.connectOptions();

    assertEquals("broker.example", connect.getHost());
    assertEquals(443, connect.getPort());
    assertEquals(true, connect.isSsl());
    assertEquals("/base/stream/orders.eu%20%C3%BC?apiKey=k%2By%2F%3D", connect.getURI());
    assertEquals("wss://broker.example/base/stream/orders.eu%20%C3%BC", endpoint.description());
  }

  @Test
  void omitsTheKeyWhenAnonymous() {
    Endpoint endpoint = Endpoint.of(ClientOptions.builder().url("ws://[::1]:8787").build(), "a");

    assertEquals("::1", endpoint.connectOptions().getHost());
    assertEquals(8787, endpoint.connectOptions().getPort());
    assertEquals("/stream/a", endpoint.connectOptions().getURI());
  }

  @Test
  void refusedUpgradeCarriesTheBrokersErrorAndNeverTheKey() {
    Endpoint endpoint = Endpoint.of(ClientOptions.builder().apiKey("secret").build(), "a");
    Buffer body = Buffer.buffer("{\"error\":{\"code\":\"invalid_subject\",\"message\":\"empty token\"}}");

    StreamException invalid = endpoint.connectFailure(rejected(400, body));
    StreamException unauthorized = endpoint.connectFailure(rejected(401, Buffer.buffer("nope")));

    assertEquals(StreamException.INVALID_SUBJECT, invalid.code());
    assertEquals("broker refused ws://127.0.0.1:8787/stream/a with HTTP 400: empty token", invalid.getMessage());
    assertInstanceOf(AuthenticationException.class, unauthorized);
    assertEquals(AuthenticationException.UNAUTHORIZED, unauthorized.code());
    assertFalse(unauthorized.getMessage().contains("secret"));
  }

  private static UpgradeRejectedException rejected(int status, Buffer body) {
    return new UpgradeRejectedException("WebSocket upgrade failure: " + status, status,
        MultiMap.caseInsensitiveMultiMap(), body);
  }
}
