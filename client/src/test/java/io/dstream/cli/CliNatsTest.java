package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.dstream.broker.config.JwtSettings;
import io.dstream.client.ClientOptions;
import io.dstream.client.DurableStream;
import io.nats.client.Connection;
import io.nats.client.Dispatcher;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The commands that speak NATS ({@code pub}, {@code sub PATTERN}, {@code req}, {@code reply}), each a separate
 * process against a real broker, with a jnats connection of the test on the other side.
 */
@ExtendWith(VertxExtension.class)
class CliNatsTest {

  private static final String API_KEY = "nats-cli-key";
  private static final String SECRET = "nats-cli-secret";
  private static final Duration WAIT = Duration.ofSeconds(10);
  /** Bounds the loops that wait for a background dstream to have subscribed. */
  private static final int ATTEMPTS = 100;

  @TempDir
  static Path dir;

  private static Broker broker;
  private static Map<String, String> env;
  private static Connection nats;

  @BeforeAll
  static void startBroker(Vertx vertx) throws Exception {
    broker = CliBroker.start(vertx, dir.resolve("broker"), API_KEY, b -> b.jwt(new JwtSettings(SECRET, null, null,
        List.of())));
    env = CliBroker.env(broker, API_KEY);
    nats = DurableStream.connectNats(ClientOptions.builder().url(CliBroker.url(broker)).natsUrl(CliBroker.natsUrl(broker))
        .apiKey(API_KEY).build());
  }

  @AfterAll
  static void stopBroker() throws Exception {
    nats.close();
    CliBroker.stop(broker);
  }

  private static CliProcess.Result ok(String... args) throws Exception {
    CliProcess.Result result = CliProcess.run(env, null, args);
    assertEquals(0, result.exitCode(), "dstream " + String.join(" ", args) + ": " + result.err());
    return result;
  }

  @Test
  void pubSendsHeadersAndPrintsThePubAck() throws Exception {
    Subscription watcher = nats.subscribe("natscli.pub.>");
    nats.flush(WAIT);
    assertEquals(List.of("1", "2"), ok("pub", "natscli.pub.a", "{\"n\":{{Count}}}", "--count", "2",
        "-H", "Origin: cli", "-H", "Nats-Msg-Id: m{{Count}}").lines());
    Message first = watcher.nextMessage(WAIT);
    assertEquals("{\"n\":1}", new String(first.getData(), StandardCharsets.UTF_8));
    assertEquals("cli", first.getHeaders().getFirst("Origin"));
    assertEquals("m1", first.getHeaders().getFirst("Nats-Msg-Id"), "templates are filled in header values too");

    JsonObject repeat = new JsonObject(ok("pub", "natscli.pub.a", "{\"n\":2}", "-H", "Nats-Msg-Id: m2", "--json").out());
    assertEquals(new JsonObject().put("subject", "natscli.pub.a").put("stream", "natscli.pub.a").put("sequence", 2)
        .put("duplicate", true), repeat, "a repeated Nats-Msg-Id is stored once");
    assertEquals(List.of("3", "4"), CliProcess.run(env, "[1,2]\n\nplain text\n", "pub", "natscli.pub.a", "-").lines());
    assertEquals(List.of("1\t{\"n\":1}", "2\t{\"n\":2}", "3\t[1,2]", "4\tplain text"),
        ok("sub", "natscli.pub.a", "--count", "4").lines(), "protocol v1 replays what NATS published");

    CliProcess.Result bad = CliProcess.run(env, "{\"ok\":1}\n{\"bad\":\n", "pub", "natscli.pub.b", "-");
    assertEquals(2, bad.exitCode(), bad.err());
    assertTrue(bad.err().startsWith("dstream: line 2 of stdin: the message looks like JSON but is not valid"), bad.err());
    assertEquals(5, CliProcess.run(env, null, "subjects", "info", "natscli.pub.b").exitCode(),
        "a bad line fails before any line of its batch is sent");
  }

  @Test
  void subOfAPatternFollowsSubjectsCreatedLater() throws Exception {
    CliProcess.Running sub = CliProcess.start(env, null, "sub", "natscli.sub.>", "--count", "1", "--json");
    // The SUB reaches the broker some time after the process starts: publish until it has one.
    for (int i = 0; i < ATTEMPTS && sub.isAlive(); i++) {
      nats.publish(withHeader("natscli.sub.new" + i, "{\"n\":" + i + "}"));
      Thread.sleep(100);
    }
    CliProcess.Result result = sub.finish();
    assertEquals(0, result.exitCode(), result.err());
    JsonObject received = new JsonObject(result.out().strip());
    assertTrue(received.getString("subject").startsWith("natscli.sub.new"), received.encode());
    assertNotNull(received.getJsonObject("data").getInteger("n"), "JSON data as JSON");
    assertEquals(new JsonArray().add("v"), received.getJsonObject("headers").getJsonArray("K"));
  }

  @Test
  void reqPrintsTheServicesReplyOrFailsWithNoResponders() throws Exception {
    Dispatcher service = nats.createDispatcher(request -> nats.publish(request.getReplyTo(),
        ("echo " + new String(request.getData(), StandardCharsets.UTF_8) + " " + request.getHeaders().getFirst("K"))
            .getBytes(StandardCharsets.UTF_8)));
    service.subscribe("svc.natscli.echo");
    nats.flush(WAIT);
    assertEquals("echo hi v", ok("req", "svc.natscli.echo", "hi", "-H", "K: v").out().strip(),
        "the service's reply, not a PubAck: svc.> is ephemeral");
    assertEquals("echo hi v", new JsonObject(ok("req", "svc.natscli.echo", "hi", "-H", "K: v", "--json").out())
        .getString("data"));
    nats.closeDispatcher(service);

    CliProcess.Result none = CliProcess.run(env, null, "req", "svc.natscli.nobody", "hi");
    assertEquals(5, none.exitCode(), none.err());
    assertEquals("dstream: request to svc.natscli.nobody: no responders; nothing serves that subject: start a service on"
        + " it (dstream reply SUBJECT ANSWER)", none.err().strip());
  }

  @Test
  void replyServesRequestsUntilItsCount() throws Exception {
    CliProcess.Running reply = CliProcess.start(env, null, "reply", "svc.natscli.reply", "got {{Request}} #{{Count}}",
        "--count", "2");
    Message answer = null;
    for (int i = 0; i < ATTEMPTS && answer == null; i++) {
      // Until the reply process has subscribed, the request ends at once with no responders (null).
      answer = nats.request("svc.natscli.reply", "one".getBytes(StandardCharsets.UTF_8), Duration.ofSeconds(1));
      if (answer == null) {
        Thread.sleep(100);
      }
    }
    assertNotNull(answer, "the reply process answered");
    assertEquals("got one #1", new String(answer.getData(), StandardCharsets.UTF_8));
    Message second = nats.request("svc.natscli.reply", "two".getBytes(StandardCharsets.UTF_8), WAIT);
    assertEquals("got two #2", new String(second.getData(), StandardCharsets.UTF_8));
    CliProcess.Result served = reply.finish();
    assertEquals(0, served.exitCode(), served.err());
    assertEquals(List.of("svc.natscli.reply\tone", "svc.natscli.reply\ttwo"), served.lines());
  }

  @Test
  void aTokenWithoutPublishRightsIsRefusedAtOnce() throws Exception {
    String token = CliProcess.run(Map.of(), null, "token", "--secret", SECRET, "--sub", "writer", "--pub",
        "natscli.allowed.>").out().strip();
    Map<String, String> scoped = Map.of("DSTREAM_URL", env.get("DSTREAM_URL"), "DSTREAM_NATS_URL",
        env.get("DSTREAM_NATS_URL"), "DSTREAM_API_KEY", token);
    assertEquals("1", CliProcess.run(scoped, null, "pub", "natscli.allowed.a", "1").out().strip());
    CliProcess.Result refused = CliProcess.run(scoped, null, "pub", "natscli.other", "1");
    assertEquals(3, refused.exitCode(), refused.err());
    assertTrue(refused.err().startsWith("dstream: the broker refused: Permissions Violation for Publish to"),
        refused.err());
    assertEquals("", refused.out());
  }

  @Test
  void theNatsUrlComesFromTheContextToo(@TempDir Path config) throws Exception {
    Map<String, String> none = Map.of("DSTREAM_CONFIG_DIR", config.toString());
    assertEquals(0, CliProcess.run(none, null, "context", "add", "local", "--url", env.get("DSTREAM_URL"),
        "--nats-url", env.get("DSTREAM_NATS_URL"), "--api-key", API_KEY).exitCode());
    CliProcess.Result published = CliProcess.run(none, null, "pub", "natscli.ctx", "1", "--context", "local");
    assertEquals("1", published.out().strip(), published.err());
    JsonObject listed = new JsonObject(CliProcess.run(none, null, "context", "ls", "--json").out());
    assertEquals(env.get("DSTREAM_NATS_URL"), listed.getString("natsUrl"));
  }

  private static NatsMessage withHeader(String subject, String data) {
    return NatsMessage.builder().subject(subject).headers(new Headers().add("K", "v")).data(data, StandardCharsets.UTF_8)
        .build();
  }
}
