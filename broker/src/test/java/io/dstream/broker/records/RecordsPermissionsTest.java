package io.dstream.broker.records;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.JwtSettings;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A JWT's scopes apply to the records API: reading needs subscribe, appending and deleting need publish. */
@ExtendWith(VertxExtension.class)
class RecordsPermissionsTest {

  private static final String SECRET = "a-records-test-secret-long-enough-for-hs256";

  @Test
  void readNeedsSubscribeAndWriteOrDeleteNeedPublish(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.jwt(new JwtSettings(SECRET, null, null, List.of())))) {
      JWTAuth issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
          new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
      String writer = issuer.generateToken(new JsonObject().put("dstream", new JsonObject()
          .put("pub", new JsonArray().add("orders.>")).put("sub", new JsonArray())), new JWTOptions().setSubject("w"));
      String reader = issuer.generateToken(new JsonObject().put("dstream", new JsonObject()
          .put("pub", new JsonArray()).put("sub", new JsonArray().add("orders.>"))), new JWTOptions().setSubject("r"));
      WebClient web = WebClient.create(vertx);
      String body = "{\"records\":[1]}";

      assertEquals(200, call(web, broker, HttpMethod.POST, "orders.eu", writer, body).statusCode());
      assertForbidden(call(web, broker, HttpMethod.GET, "orders.eu?offset=-", writer, null));
      assertForbidden(call(web, broker, HttpMethod.POST, "billing.eu", writer, body));

      HttpResponse<Buffer> read = call(web, broker, HttpMethod.GET, "orders.eu?offset=-", reader, null);
      assertEquals(200, read.statusCode());
      assertEquals(1, read.bodyAsJsonObject().getJsonArray("records").size());
      assertForbidden(call(web, broker, HttpMethod.POST, "orders.eu", reader, body));
      assertForbidden(call(web, broker, HttpMethod.DELETE, "orders.eu", reader, null));
      assertEquals(1, call(web, broker, HttpMethod.GET, "orders.eu?offset=-", reader, null)
          .bodyAsJsonObject().getJsonArray("records").size(), "refused writes changed nothing");

      assertEquals(204, call(web, broker, HttpMethod.DELETE, "orders.eu", writer, null).statusCode());
    }
  }

  private static HttpResponse<Buffer> call(WebClient web, TestBroker broker, HttpMethod method, String pathAndQuery,
                                           String token, String body) {
    var request = web.request(method, broker.port(), "127.0.0.1", "/stream/" + pathAndQuery)
        .putHeader("Authorization", "Bearer " + token);
    return (body == null ? request.send() : request.sendBuffer(Buffer.buffer(body))).await();
  }

  private static void assertForbidden(HttpResponse<Buffer> response) {
    assertEquals(403, response.statusCode(), response.bodyAsString());
    assertEquals("forbidden", response.bodyAsJsonObject().getJsonObject("error").getString("code"));
  }
}
