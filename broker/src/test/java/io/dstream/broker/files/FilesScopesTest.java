package io.dstream.broker.files;

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
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** A JWT's file scopes: reads and listings need a read prefix of the key, writes and deletes a write prefix. */
@ExtendWith(VertxExtension.class)
class FilesScopesTest {

  private static final String SECRET = "files-scope-secret-files-scope-secret";

  @Test
  void fileScopesOfAJwtAreEnforced(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.jwt(new JwtSettings(SECRET, null, null, List.of())));
         FileClient keyed = new FileClient(vertx, broker.port(), TestBroker.API_KEY)) {
      JWTAuth issuer = JWTAuth.create(vertx, new JWTAuthOptions().addPubSecKey(
          new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
      JsonObject files = new JsonObject().put("read", new JsonArray().add("public/").add("inbox/"))
          .put("write", new JsonArray().add("inbox/"));
      String token = issuer.generateToken(new JsonObject().put("dstream", new JsonObject().put("files", files)),
          new JWTOptions().setSubject("bob").setExpiresInSeconds(300));
      keyed.call(HttpMethod.PUT, "/r2/public/readme", Map.of(), Buffer.buffer("hello"));
      try (FileClient scoped = new FileClient(vertx, broker.port(), token)) {
        assertEquals("hello", scoped.get("/r2/public/readme").text());
        assertEquals(403, scoped.call(HttpMethod.PUT, "/r2/public/readme", Map.of(), Buffer.buffer("x")).status());
        assertEquals(403, scoped.call(HttpMethod.DELETE, "/r2/public/readme", Map.of(), null).status());
        assertEquals(403, scoped.get("/r2/private/secret").status());
        assertEquals(200, scoped.call(HttpMethod.PUT, "/r2/inbox/note", Map.of(), Buffer.buffer("n")).status());
        assertEquals(200, scoped.get("/r2/?prefix=public/").status());
        FileClient.Answer everything = scoped.get("/r2/");
        assertEquals(403, everything.status());
        assertEquals("forbidden", everything.json().getJsonObject("error").getString("code"));
      }
    }
  }
}
