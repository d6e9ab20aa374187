package io.dstream.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.auth.JWTOptions;
import io.vertx.ext.auth.PubSecKeyOptions;
import io.vertx.ext.auth.jwt.JWTAuth;
import io.vertx.ext.auth.jwt.JWTAuthOptions;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link DurableStream#connectNats}: plain jnats code against the real broker's NATS port, with our credentials as
 * the token, and our extras (admin, protocol v1) on the same subjects.
 */
@ExtendWith(VertxExtension.class)
class NatsClientTest {

  private static final String SECRET = "nats-client-secret";
  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final long AWAIT_SECONDS = 30;

  @TempDir
  Path dir;

  private static BrokerFixture start(Vertx vertx, Path dataDir) throws Exception {
    return BrokerFixture.start(vertx, dataDir, b -> b.nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT))
        .jwt(new JwtSettings(SECRET, null, null, List.of())));
  }

  private static ClientOptions options(BrokerFixture broker, String credential) {
    return ClientOptions.builder().url(broker.url()).natsUrl(broker.natsUrl()).apiKey(credential).build();
  }

  @Test
  void jnatsPublishesDurablyAndOurExtrasSeeIt(Vertx vertx) throws Exception {
    // jnats' close() may throw InterruptedException, which try-with-resources would warn about: closed by hand.
    try (BrokerFixture broker = start(vertx, dir);
         AdminClient admin = DurableStream.admin(options(broker, BrokerFixture.API_KEY))) {
      Connection nats = DurableStream.connectNats(options(broker, BrokerFixture.API_KEY));
      try {
        Subscription live = nats.subscribe("client.nats.>");
        nats.flush(WAIT);
        JetStream js = nats.jetStream();
        PublishAck ack = js.publish(NatsMessage.builder().subject("client.nats.orders")
            .headers(new Headers().add("Origin", "test")).data("{\"item\":\"book\"}", StandardCharsets.UTF_8).build());
        assertEquals("client.nats.orders", ack.getStream(), "no stream was declared: the subject is the stream");
        assertEquals(1, ack.getSeqno());

        Message delivered = live.nextMessage(WAIT);
        assertEquals("client.nats.orders", delivered.getSubject(), "a wildcard subscription sees a subject created later");
        assertEquals("test", delivered.getHeaders().getFirst("Origin"));

        JsonObject stored = admin.messages("client.nats.orders", 1, 10).await(AWAIT_SECONDS, TimeUnit.SECONDS)
            .getJsonArray("messages").getJsonObject(0).getJsonObject("message");
        assertEquals(new JsonObject().put("item", "book"), stored.getJsonObject("data"), "JSON payloads are JSON data");

        StreamConnection v1 = DurableStream.connect(vertx, options(broker, BrokerFixture.API_KEY), "client.nats.orders")
            .await(AWAIT_SECONDS, TimeUnit.SECONDS);
        try {
          assertEquals(1, v1.info().await(AWAIT_SECONDS, TimeUnit.SECONDS).lastSequence(), "one log for both protocols");
        } finally {
          v1.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
        }
      } finally {
        nats.close();
      }
    }
  }

  @Test
  void aJwtIsTheTokenToo(Vertx vertx) throws Exception {
    JWTAuth auth = JWTAuth.create(vertx, new JWTAuthOptions()
        .addPubSecKey(new PubSecKeyOptions().setAlgorithm("HS256").setBuffer(SECRET)));
    String token = auth.generateToken(new JsonObject().put("dstream", new JsonObject()
            .put("pub", new JsonArray().add("client.jwt.>")).put("sub", new JsonArray().add("client.jwt.>"))),
        new JWTOptions().setAlgorithm("HS256").setSubject("writer").setExpiresInSeconds(600));
    try (BrokerFixture broker = start(vertx, dir)) {
      Connection nats = DurableStream.connectNats(options(broker, token));
      try {
        assertEquals(1, nats.jetStream().publish("client.jwt.a", new byte[] {1}).getSeqno());
      } finally {
        nats.close();
      }
    }
  }

  @Test
  void aRefusedCredentialFailsTheConnect(Vertx vertx) throws Exception {
    try (BrokerFixture broker = start(vertx, dir)) {
      // jnats reports the broker's -ERR once its connect timeout has run out: a short one keeps the test short.
      ClientOptions refused = ClientOptions.builder().url(broker.url()).natsUrl(broker.natsUrl()).apiKey("not-the-key")
          .connectTimeout(Duration.ofSeconds(1)).build();
      assertThrows(io.nats.client.AuthenticationException.class, () -> DurableStream.connectNats(refused).close());
    }
  }

  @Test
  void natsOptionsCarryTheServerAndTheToken() {
    ClientOptions options = ClientOptions.builder().url("https://broker.example").apiKey("k").build();
    io.nats.client.Options nats = DurableStream.natsOptions(options).build();
    assertEquals("tls://broker.example:4222", nats.getServers().get(0).toString());
    assertEquals("k", new String(nats.getTokenChars()));
    assertNotNull(nats.getSslContext(), "tls:// uses TLS");
    assertNull(DurableStream.natsOptions(ClientOptions.builder().build()).build().getTokenChars(), "anonymous");
  }
}
