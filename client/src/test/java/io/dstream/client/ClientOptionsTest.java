package io.dstream.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class ClientOptionsTest {

  @Test
  void defaultsPointAtTheBrokersDefaultAddress() {
    ClientOptions options = ClientOptions.builder().build();

    assertEquals(URI.create("http://127.0.0.1:8787"), options.url());
    assertNull(options.apiKey());
    assertEquals(ClientOptions.DEFAULT_MAX_PENDING_REQUESTS, options.maxPendingRequests());
  }

  @Test
  void acceptsHttpAndWebSocketSchemes() {
    for (String url : new String[] {"http://h:1", "https://h", "ws://h:2/prefix", "WSS://h"}) {
      assertEquals(URI.create(url), ClientOptions.builder().url(url).build().url());
    }
  }

  @Test
  void rejectsUrlsItCannotConnectTo() {
    for (String url : new String[] {"ftp://h", "127.0.0.1:8787", "http://", "http://h/?apiKey=k", "http://h x"}) {
      assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().url(url), url);
    }
  }

  @Test
  void natsUrlDefaultsToTheBrokersHostOnTheNatsPortWithTlsWhenTheUrlHasIt() {
    assertEquals(URI.create("nats://127.0.0.1:4222"), ClientOptions.builder().build().natsUrl());
    assertEquals(URI.create("nats://broker.example:4222"),
        ClientOptions.builder().url("http://broker.example:8787/prefix").build().natsUrl());
    assertEquals(URI.create("tls://broker.example:4222"),
        ClientOptions.builder().url("https://broker.example").build().natsUrl());
    assertEquals(URI.create("tls://[::1]:4222"), ClientOptions.builder().url("wss://[::1]:8443").build().natsUrl());
  }

  @Test
  void natsUrlTakesTheSchemesJnatsSpeaks() {
    for (String url : new String[] {"nats://h:4333", "tls://h:4222", "ws://h:8787/nats", "wss://h/nats"}) {
      assertEquals(URI.create(url), ClientOptions.builder().url("http://other:1").natsUrl(url).build().natsUrl());
    }
    for (String url : new String[] {"http://h:4222", "h:4222", "nats://", "nats://h?x=1"}) {
      assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().natsUrl(url), url);
    }
  }

  @Test
  void rejectsLimitsThatCannotWork() {
    assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().maxPendingRequests(0));
    assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().connectTimeout(Duration.ZERO));
    assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().requestTimeout(Duration.ofSeconds(-1)));
    assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().maxMessageSize(10));
  }

  @Test
  void toStringHidesTheApiKey() {
    assertFalse(ClientOptions.builder().apiKey("secret-key").build().toString().contains("secret-key"));
  }

  @Test
  void reconnectAndWindowSettingsAreValidated() {
    ClientOptions options = ClientOptions.builder().maxReconnectAttempts(0)
        .reconnectDelays(Duration.ofMillis(5), Duration.ofMillis(5)).publishWindow(3).build();
    assertEquals(0, options.maxReconnectAttempts());
    assertEquals(Duration.ofMillis(5), options.reconnectMaxDelay());
    assertEquals(3, options.publishWindow());
    assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().maxReconnectAttempts(-1));
    assertThrows(IllegalArgumentException.class,
        () -> ClientOptions.builder().reconnectDelays(Duration.ofSeconds(2), Duration.ofSeconds(1)));
    assertThrows(IllegalArgumentException.class,
        () -> ClientOptions.builder().reconnectDelays(Duration.ZERO, Duration.ofSeconds(1)));
    assertThrows(IllegalArgumentException.class, () -> ClientOptions.builder().publishWindow(0));
  }
}
