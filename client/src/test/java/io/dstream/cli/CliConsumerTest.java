package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.nats.client.Connection;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PullSubscribeOptions;
import io.nats.client.api.StreamConfiguration;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code dstream consumer add|ls|info|rm|pause}, each as a separate process against a real broker whose stream and
 * consumption jnats drives, with text and --json output and the exit codes of refusals. Slow: a JVM per command.
 */
@Tag("slow")
@ExtendWith(VertxExtension.class)
class CliConsumerTest {

  private static final String API_KEY = "consumer-key";
  private static final Duration WAIT = Duration.ofSeconds(10);

  @TempDir
  static Path dir;

  private static Broker broker;
  private static Map<String, String> env;

  @BeforeAll
  static void startBroker(Vertx vertx) throws Exception {
    broker = CliBroker.start(vertx, dir.resolve("broker"), API_KEY, b -> b);
    env = CliBroker.env(broker, API_KEY);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    CliBroker.stop(broker);
  }

  private static CliProcess.Result dstream(String... args) throws Exception {
    return CliProcess.run(env, null, args);
  }

  private static CliProcess.Result ok(String... args) throws Exception {
    CliProcess.Result result = dstream(args);
    assertEquals(0, result.exitCode(), "dstream " + String.join(" ", args) + ": " + result.err());
    return result;
  }

  private static void exits(int code, String... args) throws Exception {
    CliProcess.Result result = dstream(args);
    assertEquals(code, result.exitCode(), "dstream " + String.join(" ", args) + ": " + result.out() + result.err());
    assertTrue(result.err().startsWith("dstream: "), result.err());
  }

  @Test
  void addListInspectPauseResumeAndRemove() throws Exception {
    Connection nc = Nats.connect(new Options.Builder().server(CliBroker.natsUrl(broker)).token(API_KEY.toCharArray())
        .noReconnect().build());
    try {
      nc.jetStreamManagement().addStream(StreamConfiguration.builder().name("ORDERS").subjects("orders.cli").build());
      for (int i = 1; i <= 3; i++) {
        nc.jetStream().publish("orders.cli", ("m" + i).getBytes(StandardCharsets.UTF_8));
      }
      JsonObject worker = new JsonObject(ok("consumer", "add", "ORDERS", "worker", "--pull", "--ack", "explicit",
          "--ack-wait", "30s", "--max-deliver", "5", "--max-ack-pending", "50", "--filter", "orders.cli", "--json").out());
      assertEquals("pull", worker.getString("type"));
      assertEquals(30_000L, worker.getJsonObject("config").getLong("ackWaitMs"));
      assertEquals(5L, worker.getJsonObject("config").getLong("maxDeliver"));
      assertEquals(50L, worker.getJsonObject("config").getLong("maxAckPending"));
      assertEquals(List.of("consumer pusher created on ORDERS (push, 2 pending)"),
          ok("consumer", "add", "ORDERS", "pusher", "--target", "deliver.cli", "--deliver", "seq:2").lines());

      JetStreamSubscription sub = nc.jetStream().subscribe("orders.cli", PullSubscribeOptions.bind("ORDERS", "worker"));
      List<Message> fetched = sub.fetch(2, WAIT);
      assertEquals(2, fetched.size());
      fetched.get(0).ackSync(WAIT);

      List<String> table = ok("consumer", "ls", "ORDERS").lines();
      assertEquals(3, table.size(), String.join("\n", table));
      assertTrue(table.get(0).startsWith("STREAM"), table.get(0));
      assertEquals(List.of("ORDERS", "worker", "pull", "1", "1", "1", "0", "0"),
          List.of(table.get(2).split("\\s+")).subList(0, 8), table.get(2));
      assertTrue(table.get(2).contains("s ago") && table.get(2).endsWith("no"), table.get(2));
      assertEquals(List.of("ORDERS", "pusher", "push", "2"), List.of(table.get(1).split("\\s+")).subList(0, 4));
      List<String> json = ok("consumer", "ls", "--json").lines();
      assertEquals(2, json.size(), "--json prints no header");
      assertEquals("pusher", new JsonObject(json.get(0)).getString("name"));

      String info = ok("consumer", "info", "ORDERS", "worker").out();
      assertTrue(info.contains("ack floor:       1\n"), info);
      assertTrue(info.contains("ack pending:     1\n"), info);
      assertTrue(info.contains("type:            pull, durable"), info);
      assertEquals(1L, new JsonObject(ok("consumer", "info", "ORDERS", "worker", "--json").out()).getLong("pending"));

      assertTrue(ok("consumer", "pause", "ORDERS", "worker", "--for", "10m").out()
          .startsWith("consumer worker of ORDERS paused until "));
      assertTrue(sub.fetch(1, Duration.ofMillis(800)).isEmpty(), "paused: the pull request times out");
      assertTrue(new JsonObject(ok("consumer", "info", "ORDERS", "worker", "--json").out()).getBoolean("paused"));
      assertEquals(List.of("consumer worker of ORDERS delivering"),
          ok("consumer", "pause", "ORDERS", "worker", "--until", "2020-01-01T00:00:00Z").lines(), "a past time resumes");
      ok("consumer", "pause", "ORDERS", "worker", "--until", "2099-01-01T00:00:00Z");
      assertEquals(List.of("consumer worker of ORDERS delivering"),
          ok("consumer", "pause", "ORDERS", "worker", "--resume").lines());
      assertEquals(1, sub.fetch(1, WAIT).size(), "resumed: m3 comes");

      exits(ExitCode.USAGE, "consumer", "pause", "ORDERS", "worker");
      exits(ExitCode.USAGE, "consumer", "pause", "ORDERS", "worker", "--for", "10m", "--resume");
      exits(ExitCode.USAGE, "consumer", "add", "ORDERS", "other", "--deliver", "sometimes");
      exits(ExitCode.USAGE, "consumer", "add", "ORDERS", "other", "--pull", "--target", "x.y");
      exits(ExitCode.FAILED, "consumer", "add", "ORDERS", "worker");
      exits(ExitCode.FAILED, "consumer", "add", "ORDERS", "other", "--ack", "sometimes");
      exits(ExitCode.NOT_FOUND, "consumer", "add", "NOPE", "other");
      exits(ExitCode.NOT_FOUND, "consumer", "info", "ORDERS", "nobody");
      exits(ExitCode.AUTHENTICATION, "consumer", "ls", "--api-key", "wrong");

      assertEquals(List.of("consumer pusher deleted from ORDERS"), ok("consumer", "rm", "ORDERS", "pusher").lines());
      exits(ExitCode.NOT_FOUND, "consumer", "rm", "ORDERS", "pusher");
      assertEquals(1, ok("consumer", "ls", "ORDERS", "--json").lines().size());
    } finally {
      nc.close();
    }
  }
}
