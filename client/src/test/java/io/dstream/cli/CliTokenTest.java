package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.dstream.broker.config.JwtSettings;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dstream token} as a separate process: the token it mints has the claim shape of
 * docs/security.md and a real broker with that secret, issuer and audience accepts it within its
 * scopes and refuses it outside them.
 */
@ExtendWith(VertxExtension.class)
class CliTokenTest {

  private static final String SECRET = "cli-token-test-secret";

  @TempDir
  static Path dataDir;

  private static Broker broker;

  @BeforeAll
  static void startBroker(Vertx vertx) throws Exception {
    broker = CliBroker.start(vertx, dataDir.resolve("broker"), "cli-token-api-key",
        b -> b.jwt(new JwtSettings(SECRET, null, "dstream-cli", List.of("brokers"))));
  }

  @AfterAll
  static void stopBroker() throws Exception {
    CliBroker.stop(broker);
  }

  private static String mint(String... args) throws Exception {
    CliProcess.Result result = CliProcess.run(Map.of("DSTREAM_JWT_SECRET", SECRET), null, args);
    assertEquals(0, result.exitCode(), result.err());
    return result.out().trim();
  }

  private static CliProcess.Result as(String token, String... args) throws Exception {
    return CliProcess.run(CliBroker.env(broker, token), null, args);
  }

  @Test
  void aMintedTokenCarriesTheDocumentedClaimAndWorksWithinItsScopesOnly() throws Exception {
    String token = mint("token", "--sub", "alice", "--pub", "orders.>", "--subscribe", "orders.*",
        "--files-read", "reports/", "--files-write", "reports/alice/", "--ttl", "15m", "--iss", "dstream-cli",
        "--aud", "brokers");
    JsonObject claims = new JsonObject(new String(Base64.getUrlDecoder().decode(token.split("\\.")[1]),
        StandardCharsets.UTF_8));
    assertEquals("alice", claims.getString("sub"));
    assertEquals("dstream-cli", claims.getString("iss"));
    long lifetime = claims.getLong("exp") - System.currentTimeMillis() / 1000;
    assertTrue(lifetime > 14 * 60 && lifetime <= 15 * 60, "exp is 15 minutes ahead: " + lifetime);
    assertEquals(new JsonObject().put("pub", new JsonArray().add("orders.>")).put("sub", new JsonArray().add("orders.*"))
        .put("files", new JsonObject().put("read", new JsonArray().add("reports/"))
            .put("write", new JsonArray().add("reports/alice/")))
        .put("admin", false), claims.getJsonObject("dstream"));

    CliProcess.Result published = as(token, "pub", "orders.eu", "{\"n\":1}");
    assertEquals(0, published.exitCode(), published.err());
    assertEquals(List.of("1\t{\"n\":1}"), as(token, "sub", "orders.eu", "--count", "1").lines());
    assertEquals(3, as(token, "pub", "audit.eu", "1").exitCode(), "outside the token's scope");
  }

  @Test
  void aTokenForAnotherAudienceOrSecretIsRefused() throws Exception {
    String otherAudience = mint("token", "--sub", "bob", "--pub", ">", "--iss", "dstream-cli", "--aud", "elsewhere");
    assertEquals(3, as(otherAudience, "pub", "orders.eu", "1").exitCode());
    String otherSecret = mint("token", "--secret", "not-the-secret", "--sub", "bob", "--pub", ">", "--iss", "dstream-cli",
        "--aud", "brokers");
    assertEquals(3, as(otherSecret, "pub", "orders.eu", "1").exitCode());
    String admin = mint("token", "--sub", "ops", "--admin", "--iss", "dstream-cli", "--aud", "brokers");
    assertEquals(true, new JsonObject(new String(Base64.getUrlDecoder().decode(admin.split("\\.")[1]),
        StandardCharsets.UTF_8)).getJsonObject("dstream").getBoolean("admin"));
    assertNotEquals(0, CliProcess.run(Map.of(), null, "token", "--sub", "nobody").exitCode(), "no secret given");
  }
}
