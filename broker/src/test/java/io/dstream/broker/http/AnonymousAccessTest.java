package io.dstream.broker.http;

import io.dstream.broker.TestBroker;
import io.dstream.broker.auth.AnonymousAccess;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * DSTREAM_ANONYMOUS: requests without credentials get stream permissions only (read, or read and
 * write); a wrong credential stays a 401, and admin calls a 403.
 */
@ExtendWith(VertxExtension.class)
class AnonymousAccessTest {

  private static int status(WebClient http, int port, HttpMethod method, String uri, String apiKey) {
    var request = http.request(method, port, "127.0.0.1", uri).putHeader("Content-Type", "text/plain");
    if (apiKey != null) {
      request.putHeader("Authorization", "Bearer " + apiKey);
    }
    return request.sendBuffer(Buffer.buffer(method == HttpMethod.POST ? "x" : "")).await().statusCode();
  }

  @Test
  void noneRequiresCredentialsEverywhere(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx)) {
      WebClient http = WebClient.create(vertx);
      assertEquals(401, status(http, broker.port(), HttpMethod.PUT, "/v1/stream/a", null));
      assertEquals(201, status(http, broker.port(), HttpMethod.PUT, "/v1/stream/a", TestBroker.API_KEY));
      assertEquals(401, status(http, broker.port(), HttpMethod.GET, "/v1/stream/a", null));
    }
  }

  @Test
  void readAllowsReadsAndForbidsWrites(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.anonymousAccess(AnonymousAccess.READ))) {
      WebClient http = WebClient.create(vertx);
      assertEquals(201, status(http, broker.port(), HttpMethod.PUT, "/v1/stream/a", TestBroker.API_KEY));
      assertEquals(200, status(http, broker.port(), HttpMethod.GET, "/v1/stream/a", null));
      assertEquals(200, status(http, broker.port(), HttpMethod.HEAD, "/v1/stream/a", null));
      assertEquals(403, status(http, broker.port(), HttpMethod.POST, "/v1/stream/a", null));
      assertEquals(403, status(http, broker.port(), HttpMethod.DELETE, "/v1/stream/a", null));
      assertEquals(401, status(http, broker.port(), HttpMethod.GET, "/v1/stream/a?apiKey=wrong", null));
    }
  }

  @Test
  void allAllowsStreamWritesButNeverMetricsOrFiles(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.anonymousAccess(AnonymousAccess.ALL))) {
      WebClient http = WebClient.create(vertx);
      assertEquals(201, status(http, broker.port(), HttpMethod.PUT, "/v1/stream/a", null));
      assertEquals(204, status(http, broker.port(), HttpMethod.POST, "/v1/stream/a", null));
      assertEquals(403, status(http, broker.port(), HttpMethod.GET, "/metrics", null));
      assertEquals(401, status(http, broker.port(), HttpMethod.GET, "/metrics?apiKey=wrong", null));
    }
  }

  @Test
  void parsesTheSetting() {
    assertEquals(AnonymousAccess.READ, AnonymousAccess.parse(" Read "));
    org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> AnonymousAccess.parse("some"));
  }
}
