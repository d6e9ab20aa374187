package io.dstream.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.dstream.broker.config.NatsSettings;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.StreamConfiguration;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The admin client against the broker's real /admin/ routes, with answers as docs/admin.md shows them. */
@ExtendWith(VertxExtension.class)
class AdminClientTest {

  private static final long AWAIT_SECONDS = 30;

  @TempDir
  Path dir;

  @Test
  void listsReadsStateAndDeletesSubjects(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dir);
         AdminClient admin = DurableStream.admin(options(broker.url(), BrokerFixture.API_KEY))) {
      publish(vertx, broker, "admin.orders.eu", List.of("a", "b", "c"));
      publish(vertx, broker, "admin.orders.us", List.of("d"));

      JsonObject page = await(admin.subjects("admin.orders.", null, 1));
      assertEquals("admin.orders.eu", page.getJsonArray("subjects").getJsonObject(0).getString("subject"));
      assertEquals(true, page.getBoolean("truncated"));
      JsonObject next = await(admin.subjects("admin.orders.", page.getString("cursor"), AdminClient.MAX_PAGE));
      assertEquals("admin.orders.us", next.getJsonArray("subjects").getJsonObject(0).getString("subject"));

      JsonArray messages = await(admin.messages("admin.orders.eu", 2, 10)).getJsonArray("messages");
      assertEquals(List.of(2L, 3L), messages.stream().map(m -> ((JsonObject) m).getLong("sequence")).toList());
      assertEquals("b", messages.getJsonObject(0).getJsonObject("message").getString("data"));

      assertEquals(new JsonObject(), await(admin.state("admin.orders.eu")), "no state stored yet");
      await(admin.putState("admin.orders.eu", new JsonObject().put("cursor", 2)));
      assertEquals(new JsonObject().put("cursor", 2), await(admin.state("admin.orders.eu")));

      JsonObject deleted = await(admin.deleteMessages("admin.orders.eu", 2));
      assertEquals(3, deleted.getLong("firstSequence"));
      assertEquals(3, deleted.getLong("lastSequence"));

      await(admin.deleteSubject("admin.orders.us"));
      StreamException gone = assertThrows(StreamException.class, () -> await(admin.subject("admin.orders.us")));
      assertEquals("not_found", gone.code());
    }
  }

  @Test
  void createsListsPausesResumesAndDeletesConsumers(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dir,
        b -> b.nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)));
         AdminClient admin = DurableStream.admin(options(broker.url(), BrokerFixture.API_KEY))) {
      Connection nc = Nats.connect(new Options.Builder().server(broker.natsUrl())
          .token(BrokerFixture.API_KEY.toCharArray()).noReconnect().build());
      try {
        nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("JOBS").subjects("admin.jobs").build());
        nc.jetStream().publish("admin.jobs", "j1".getBytes(StandardCharsets.UTF_8));
        JsonObject created = await(admin.addConsumer("JOBS", new JsonObject().put("name", "runner")
            .put("ackPolicy", "explicit").put("maxDeliver", 3)));
        assertEquals("pull", created.getString("type"));
        assertEquals(1L, created.getLong("pending"));
        assertEquals("consumer_exists", assertThrows(StreamException.class,
            () -> await(admin.addConsumer("JOBS", new JsonObject().put("name", "runner")))).code());

        JsonObject paused = await(admin.pauseConsumer("JOBS", "runner", Duration.ofMinutes(10)));
        assertEquals(true, paused.getBoolean("paused"));
        Instant until = Instant.now().plus(Duration.ofHours(1)).truncatedTo(ChronoUnit.MILLIS);
        assertEquals(until.toString(), await(admin.pauseConsumer("JOBS", "runner", until)).getString("pauseUntil"));
        assertEquals(true, await(admin.consumer("JOBS", "runner")).getBoolean("paused"));
        assertEquals(false, await(admin.resumeConsumer("JOBS", "runner")).getBoolean("paused"));
        JsonArray listed = await(admin.consumers(null)).getJsonArray("consumers");
        assertEquals(List.of("runner"), listed.stream().map(c -> ((JsonObject) c).getString("name")).toList());
        assertEquals(1, await(admin.consumers("JOBS")).getJsonArray("consumers").size());

        await(admin.deleteConsumer("JOBS", "runner"));
        assertEquals("not_found", assertThrows(StreamException.class,
            () -> await(admin.consumer("JOBS", "runner"))).code());
        assertEquals("not_found", assertThrows(StreamException.class, () -> await(admin.consumers("NOPE"))).code());
      } finally {
        nc.close();
      }
    }
  }

  @Test
  void setsListsAndRemovesRetentionRules(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dir);
         AdminClient admin = DurableStream.admin(options(broker.url(), BrokerFixture.API_KEY))) {
      JsonObject rule = await(admin.putRetention("admin.ret.>", new JsonObject().put("maxMessages", 2)));
      assertEquals(new JsonObject().put("pattern", "admin.ret.>").put("maxAgeMs", 0).put("maxMessages", 2)
          .put("maxBytes", 0).put("maxMessageSize", 0).put("discard", "old"), rule);
      publish(vertx, broker, "admin.ret.eu", List.of("a", "b", "c"));
      JsonObject subject = await(admin.subject("admin.ret.eu"));
      assertEquals(2, subject.getLong("messages"), "trimmed to the rule's count as the third was appended");
      assertEquals("admin.ret.>", subject.getJsonObject("limits").getString("rule"));

      JsonArray rules = await(admin.retention()).getJsonArray("rules");
      assertEquals("admin.ret.>", rules.getJsonObject(0).getString("pattern"));
      StreamException bad = assertThrows(StreamException.class,
          () -> await(admin.putRetention("admin.ret.>", new JsonObject().put("discard", "sometimes"))));
      assertEquals("invalid_limits", bad.code());

      await(admin.deleteRetention("admin.ret.>"));
      assertEquals(0, await(admin.retention()).getJsonArray("rules").size());
      assertEquals("not_found", assertThrows(StreamException.class,
          () -> await(admin.deleteRetention("admin.ret.>"))).code());
    }
  }

  @Test
  void refusedCredentialsAreAnAuthenticationException(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dir);
         AdminClient admin = DurableStream.admin(options(broker.url(), "not-the-key"))) {
      assertInstanceOf(AuthenticationException.class,
          assertThrows(StreamException.class, () -> await(admin.subjects(null, null, 10))));
    }
  }

  private static void publish(Vertx vertx, BrokerFixture broker, String subject, List<String> data) throws Exception {
    StreamConnection connection = DurableStream.connect(vertx, broker.url(), subject, BrokerFixture.API_KEY)
        .await(AWAIT_SECONDS, TimeUnit.SECONDS);
    try {
      connection.publishAll(data).await(AWAIT_SECONDS, TimeUnit.SECONDS);
    } finally {
      connection.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  private static ClientOptions options(String url, String apiKey) {
    return ClientOptions.builder().url(url).apiKey(apiKey).build();
  }

  private static <T> T await(Future<T> future) throws Exception {
    return future.await(AWAIT_SECONDS, TimeUnit.SECONDS);
  }
}
