package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.config.S3Settings;
import io.dstream.client.ClientOptions;
import io.dstream.client.DurableStream;
import io.nats.client.Connection;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.net.ServerSocket;
import java.nio.file.Files;
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
 * Every exit code of docs/cli.md, each with the one line on stderr the table shows: what failed and,
 * where the user can fix it, what to do. Nothing on stdout before an error. Slow: a JVM per command.
 */
@Tag("slow")
@ExtendWith(VertxExtension.class)
class CliExitCodesTest {

  private static final String API_KEY = "codes-key";
  private static final String SECRET = "codes-secret";

  @TempDir
  static Path dir;

  private static Broker broker;
  private static Map<String, String> env;

  @BeforeAll
  static void startBroker(Vertx vertx) throws Exception {
    broker = CliBroker.start(vertx, dir.resolve("broker"), API_KEY, b -> b.jwt(new JwtSettings(SECRET, null, null, List.of())));
    env = CliBroker.env(broker, API_KEY);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    CliBroker.stop(broker);
  }

  /** Runs dstream, checks its exit code and that stderr is one line starting with {@code line}. */
  private static void fails(int code, Map<String, String> environment, String line, String... args) throws Exception {
    CliProcess.Result result = CliProcess.run(environment, null, args);
    assertEquals(code, result.exitCode(), "dstream " + String.join(" ", args) + ": " + result.err());
    assertEquals(1, result.err().strip().lines().count(), "one line: " + result.err());
    assertTrue(result.err().startsWith(line), "'" + result.err() + "' starts with '" + line + "'");
    assertEquals("", result.out(), "nothing on stdout before an error");
  }

  @Test
  void code0Done() throws Exception {
    CliProcess.Result result = CliProcess.run(env, null, "pub", "codes.ok", "{\"n\":1}");
    assertEquals(0, result.exitCode(), result.err());
    assertEquals("1", result.out().strip());
    assertEquals("", result.err());
  }

  @Test
  void code1FailedLocallyOrNotOk(Vertx vertx, @TempDir Path work) throws Exception {
    fails(1, env, "dstream: cannot read " + work.resolve("missing.csv") + ": ", "files", "put", "k.csv",
        work.resolve("missing.csv").toString());
    String dead;
    try (ServerSocket probe = new ServerSocket(0)) {
      dead = "http://127.0.0.1:" + probe.getLocalPort();
    }
    Broker degraded = CliBroker.start(vertx, work.resolve("b"), API_KEY, b -> b.s3(S3Settings.EMBEDDED.withEndpoint(dead, "a", "b")));
    try {
      CliProcess.Result check = CliProcess.run(Map.of("DSTREAM_URL", CliBroker.url(degraded)), null,
          "server", "check");
      assertEquals(1, check.exitCode(), check.err());
      assertTrue(check.out().startsWith("degraded: objectStorage: object storage failed"), check.out());
    } finally {
      CliBroker.stop(degraded);
    }
  }

  @Test
  void code2Usage() throws Exception {
    fails(2, env, "dstream: the message looks like JSON but is not valid at column 16: ", "pub", "codes.x",
        "{\"item\":\"book\",}");
    fails(2, env, "dstream: Unknown option: '--colour'; see: dstream pub --help", "pub", "codes.x", "1", "--colour");
    fails(2, env, "dstream: Missing required option: '--upto=<upTo>'; see: dstream rm --help", "rm", "codes.x");
    fails(2, env, "dstream: --from must be a sequence, 'first' or 'new', got 'soon'", "sub", "codes.x", "--from", "soon");
    fails(2, Map.of(), "dstream: --pub: invalid subject pattern 'a..b'", "token", "--secret", SECRET, "--sub", "a",
        "--pub", "a..b");
  }

  @Test
  void code3CredentialsRefusedOrNotAllowed() throws Exception {
    Map<String, String> wrongKey = Map.of("DSTREAM_URL", env.get("DSTREAM_URL"), "DSTREAM_NATS_URL",
        env.get("DSTREAM_NATS_URL"), "DSTREAM_API_KEY", "wrong");
    fails(3, wrongKey, "dstream: the broker refused the credential on " + env.get("DSTREAM_NATS_URL"), "pub", "codes.x",
        "1");
    fails(3, wrongKey, "dstream: GET /admin/subjects?limit=1000 failed with HTTP 401: ", "subjects", "ls");
    CliProcess.Result refused = CliProcess.run(wrongKey, null, "info", "codes.x");
    assertEquals(3, refused.exitCode());
    assertTrue(refused.err().strip().endsWith("check --api-key, DSTREAM_API_KEY or the context's key (a generated key is"
        + " in the broker's data/api-key)"), refused.err());
    Path database = dir.resolve("refused.db");
    fails(3, wrongKey, "dstream: GET /admin/subjects?limit=1000 failed with HTTP 401: ", "export", "--sqlite",
        database.toString());
    assertFalse(Files.exists(database), "a refused export creates no database");
    String token = CliProcess.run(Map.of(), null, "token", "--secret", SECRET, "--sub", "reader", "--subscribe", "codes.*")
        .out().strip();
    fails(3, Map.of("DSTREAM_URL", env.get("DSTREAM_URL"), "DSTREAM_API_KEY", token),
        "dstream: GET /admin/subjects?limit=1000 failed with HTTP 403: ", "subjects", "ls");
  }

  @Test
  void code4Unreachable(@TempDir Path work) throws Exception {
    String dead;
    try (ServerSocket probe = new ServerSocket(0)) {
      dead = "http://127.0.0.1:" + probe.getLocalPort();
    }
    fails(4, Map.of("DSTREAM_URL", dead), "dstream: cannot connect to " + dead + " for GET /admin/subjects (", "subjects", "ls");
    fails(4, Map.of("DSTREAM_URL", dead), "dstream: cannot connect to ws://", "info", "codes.x");
    String deadNats = dead.replace("http://", "nats://");
    fails(4, Map.of("DSTREAM_NATS_URL", deadNats), "dstream: cannot connect to " + deadNats + " (Connection refused); is"
        + " the broker running there with its NATS port open (DSTREAM_NATS_PORT)? Point --nats-url", "pub", "codes.x", "1");
    Path database = work.resolve("system.db");
    fails(4, Map.of("DSTREAM_URL", dead), "dstream: cannot connect to ", "export", "--sqlite", database.toString());
    assertFalse(Files.exists(database), "no database from a failed export");
  }

  @Test
  void code5NotFound(@TempDir Path work) throws Exception {
    assertEquals(0, CliProcess.run(env, null, "pub", "codes.five", "1").exitCode());
    fails(5, env, "dstream: no subject 'typo.x' on this broker (dstream subjects ls lists them)", "subjects", "info", "typo.x");
    fails(5, env, "dstream: no subject 'typo.y': nothing was ever published to it (dstream subjects ls lists the subjects)",
        "info", "typo.y");
    fails(5, env, "dstream: no message 9 in codes.five (it holds 1 to 1)", "msg", "get", "codes.five", "9");
    fails(5, env, "dstream: HEAD missing.csv failed with HTTP 404", "files", "stat", "missing.csv");
    fails(5, env, "dstream: request to svc.nobody: no responders; nothing serves that subject", "req", "svc.nobody", "hi");
    Path target = work.resolve("copy.csv");
    fails(5, env, "dstream: GET missing.csv failed with HTTP 404", "files", "get", "missing.csv", target.toString());
    assertFalse(Files.exists(target), "no file from a failed download");
    try (var left = Files.list(work)) {
      assertEquals(0, left.count(), "no partial file either");
    }
  }

  @Test
  void code6WaitRanOut() throws Exception {
    CliProcess.Result idle = CliProcess.run(env, null, "sub", "codes.idle", "--from", "new", "--timeout-after", "300ms");
    assertEquals(6, idle.exitCode(), idle.err());
    CliProcess.Result idleNats = CliProcess.run(env, null, "sub", "codes.idle.>", "--timeout-after", "300ms");
    assertEquals(6, idleNats.exitCode(), idleNats.err());
    Connection silent = DurableStream.connectNats(ClientOptions.builder().natsUrl(env.get("DSTREAM_NATS_URL"))
        .apiKey(API_KEY).build());
    try {
      silent.subscribe("svc.silent");
      silent.flush(Duration.ofSeconds(10));
      fails(6, env, "dstream: request to svc.silent got no answer within 500 ms; the service did not answer in time",
          "req", "svc.silent", "x", "--timeout-ms", "500");
    } finally {
      silent.close();
    }
    CliProcess.Result bench = CliProcess.run(env, null, "bench", "--count", "10000000", "--max-seconds", "1");
    assertEquals(6, bench.exitCode(), bench.err());
    assertTrue(bench.err().startsWith("dstream: bench stopped at --max-seconds 1 after publishing "), bench.err());
    assertTrue(CliProcess.run(env, null, "subjects", "ls", "bench.>").lines().size() == 1,
        "the generated subject is deleted (only the header is left)");
  }
}
