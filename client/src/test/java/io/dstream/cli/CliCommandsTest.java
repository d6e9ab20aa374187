package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.dstream.broker.config.TlsSettings;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The commands a NATS user expects, each as a separate process against a real broker: contexts,
 * subjects, msg get, sub and pub options, server, files cp/share/stat, completion, --json output and
 * an example in every --help. Slow: a JVM per command.
 */
@Tag("slow")
@ExtendWith(VertxExtension.class)
class CliCommandsTest {

  private static final String API_KEY = "commands-key";

  @TempDir
  static Path dir;

  private static Broker broker;
  private static String url;
  private static String natsUrl;
  private static Map<String, String> env;

  @BeforeAll
  static void startBroker(Vertx vertx) throws Exception {
    broker = CliBroker.start(vertx, dir.resolve("broker"), API_KEY, b -> b);
    url = CliBroker.url(broker);
    natsUrl = CliBroker.natsUrl(broker);
    env = CliBroker.env(broker, API_KEY);
  }

  @AfterAll
  static void stopBroker() throws Exception {
    CliBroker.stop(broker);
  }

  private static CliProcess.Result ok(Map<String, String> environment, String... args) throws Exception {
    CliProcess.Result result = CliProcess.run(environment, null, args);
    assertEquals(0, result.exitCode(), "dstream " + String.join(" ", args) + ": " + result.err());
    return result;
  }

  private static CliProcess.Result ok(String... args) throws Exception {
    return ok(env, args);
  }

  private static JsonObject json(String... args) throws Exception {
    return new JsonObject(ok(args).out());
  }

  @Test
  void contextsReplaceTheEnvironmentAndStayPrivate(@TempDir Path config) throws Exception {
    Map<String, String> none = Map.of("DSTREAM_CONFIG_DIR", config.resolve("dstream").toString());
    ok(none, "context", "add", "wrong", "--url", url, "--nats-url", natsUrl, "--api-key", "not-the-key");
    ok(none, "context", "add", "local", "--url", url, "--nats-url", natsUrl, "--api-key", API_KEY);
    Path file = config.resolve("dstream").resolve("contexts.json");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
    assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file.getParent())));
    assertEquals(List.of("* wrong\t" + url, "  local\t" + url), ok(none, "context", "ls").lines(), "the first is selected");
    assertEquals(3, CliProcess.run(none, null, "pub", "ctx.a", "1").exitCode(), "the selected context's key is used");
    assertEquals("1", ok(none, "pub", "ctx.a", "1", "--context", "local").out().strip());
    ok(none, "context", "select", "local");
    assertEquals("2", ok(none, "pub", "ctx.a", "2").out().strip(), "no variable needed");
    JsonObject listed = new JsonObject(ok(none, "context", "ls", "--json").lines().get(1));
    assertEquals(true, listed.getBoolean("selected"));
    assertFalse(listed.encode().contains(API_KEY), "keys are not printed");
    ok(none, "context", "rm", "wrong");
    assertEquals(List.of("* local\t" + url), ok(none, "context", "ls").lines());
    Map<String, String> overridden = new HashMap<>(none);
    overridden.put("DSTREAM_API_KEY", "wrong");
    assertEquals(3, CliProcess.run(overridden, null, "pub", "ctx.a", "3").exitCode(), "a variable overrides the context");
  }

  @Test
  void subjectsMsgPubAndSubOptions() throws Exception {
    assertEquals(List.of("1", "2", "3"), ok("pub", "cmd.orders", "{\"n\":{{Count}},\"at\":\"{{TimeStamp}}\"}", "--count", "3")
        .lines());
    List<String> raw = ok("sub", "cmd.orders", "--last", "2", "--raw", "--count", "2").lines();
    assertEquals(2, new JsonObject(raw.get(0)).getInteger("n"));
    assertEquals(3, new JsonObject(raw.get(1)).getInteger("n"));
    Instant.parse(new JsonObject(raw.get(1)).getString("at"));
    ok("pub", "cmd.text", "{\"a\":", "--string");
    assertEquals("{\"a\":", ok("sub", "cmd.text", "--count", "1", "--raw").out().strip(), "--string publishes it as text");

    JsonObject message = json("msg", "get", "cmd.orders", "2", "--json");
    assertEquals(2, message.getJsonObject("message").getJsonObject("data").getInteger("n"));
    assertTrue(message.getLong("ts") > 0);
    JsonObject info = json("subjects", "info", "cmd.orders", "--json");
    assertEquals(3L, info.getLong("lastSequence"));
    assertEquals(new JsonObject().put("subject", "cmd.orders").put("deleted", true),
        json("subjects", "rm", "cmd.orders", "--force", "--json"));
    assertEquals(5, CliProcess.run(env, null, "subjects", "info", "cmd.orders").exitCode(), "deleted for good");
    assertEquals(2, CliProcess.run(env, null, "subjects", "rm", "cmd.text").exitCode(), "not on a terminal: needs --force");
    assertTrue(ok("subjects", "ls", "cmd.>").out().contains("cmd.text"), "still there");
  }

  @Test
  void retentionSetLsAndRm() throws Exception {
    assertEquals("retention of cmd.ret.>: max-age=86400000ms max-bytes=1073741824 discard=old",
        ok("retention", "set", "cmd.ret.>", "--max-age", "24h", "--max-bytes", "1GiB").out().strip());
    JsonObject rule = json("retention", "set", "cmd.ret.eu", "--max-msgs", "2", "--max-msg-size", "1KiB",
        "--discard", "new", "--json");
    assertEquals(2, rule.getLong("maxMessages"));
    assertEquals(1024, rule.getLong("maxMessageSize"));
    List<String> listed = ok("retention", "ls").lines();
    assertTrue(listed.get(1).startsWith("(default)") && listed.get(1).endsWith("unlimited"), listed.toString());
    assertTrue(listed.get(2).startsWith("cmd.ret.eu ") && listed.get(2).endsWith("max-msgs=2 max-msg-size=1024 discard=new"),
        "the most specific first: " + listed);
    assertTrue(listed.get(3).startsWith("cmd.ret.> "), listed.toString());

    ok("pub", "cmd.ret.eu", "1");
    ok("pub", "cmd.ret.eu", "2");
    CliProcess.Result refused = CliProcess.run(env, null, "pub", "cmd.ret.eu", "3");
    assertEquals(1, refused.exitCode());
    assertTrue(refused.err().contains("subject 'cmd.ret.eu' is at its limit of 2 messages (rule 'cmd.ret.eu', discard new)"),
        refused.err());

    assertEquals(2, CliProcess.run(env, null, "retention", "set", "cmd.ret.>", "--max-bytes", "lots").exitCode());
    ok("retention", "rm", "cmd.ret.eu");
    assertEquals(5, CliProcess.run(env, null, "retention", "rm", "cmd.ret.eu").exitCode(), "no such rule any more");
    assertEquals(1, new JsonObject(ok("retention", "ls", "--json").out()).getJsonArray("rules").size());
  }

  @Test
  void serverInfoPingAndCheck() throws Exception {
    JsonObject info = json("server", "info", "--json");
    assertEquals("ok", info.getString("status"));
    assertEquals(url, info.getString("url"));
    assertEquals("ok", info.getJsonObject("components").getJsonObject("objectStorage").getString("status"));
    List<String> pings = ok("server", "ping", "--count", "2", "--json").lines();
    assertEquals(2, pings.size());
    assertTrue(new JsonObject(pings.get(1)).getDouble("ms") > 0);
    assertEquals("ok", ok("server", "check").out().strip());
    // A single node has no cluster view (ServerClusterIT runs the command against a cluster node).
    assertEquals("single node: not in cluster mode (docs/cluster.md)", ok("server", "cluster").out().strip());
    assertEquals(false, json("server", "cluster", "orders.eu", "--json").getBoolean("cluster"));
  }

  @Test
  void filesCopyTreesStatAndShare(@TempDir Path work) throws Exception {
    Path tree = Files.createDirectories(work.resolve("photos/2026"));
    Files.writeString(tree.resolve("b.txt"), "bee");
    Files.writeString(work.resolve("photos/a.txt"), "ay");
    List<String> up = ok("files", "cp", "-r", work.resolve("photos").toString(), "r2:backup/photos/", "--json").lines();
    assertEquals(2, up.size());
    assertEquals("backup/photos/2026/b.txt", new JsonObject(up.get(0)).getString("key"));
    assertEquals(3L, json("files", "stat", "backup/photos/2026/b.txt", "--json").getLong("size"));

    Path restored = work.resolve("restored");
    ok("files", "cp", "-r", "r2:backup/photos/", restored.toString());
    assertEquals("bee", Files.readString(restored.resolve("2026/b.txt")));
    assertEquals("ay", Files.readString(restored.resolve("a.txt")));
    ok("files", "cp", "r2:backup/photos/a.txt", work.toString());
    assertEquals("ay", Files.readString(work.resolve("a.txt")));
    assertEquals(2, CliProcess.run(env, null, "files", "cp", work.resolve("photos").toString(), "r2:x/").exitCode(),
        "a directory needs -r");

    JsonObject share = json("files", "share", "backup/photos/a.txt", "--expires", "10m", "--json");
    assertTrue(Instant.parse(share.getString("expires")).isAfter(Instant.now().plusSeconds(500)));
    HttpResponse<String> fetched = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create(share.getString("url"))).build(), HttpResponse.BodyHandlers.ofString());
    assertEquals(200, fetched.statusCode());
    assertEquals("ay", fetched.body(), "the link downloads the file without a credential");
    assertEquals(5, CliProcess.run(env, null, "files", "share", "backup/none.txt").exitCode());

    Path existing = Files.writeString(work.resolve("keep.txt"), "mine");
    assertEquals(5, CliProcess.run(env, null, "files", "get", "backup/none.txt", existing.toString()).exitCode());
    assertEquals("mine", Files.readString(existing), "a failed download leaves the target as it was");
  }

  @Test
  void aCaFileTrustsABrokerWithItsOwnCertificate(Vertx vertx, @TempDir Path work) throws Exception {
    Path cert = work.resolve("cert.pem");
    Path key = work.resolve("key.pem");
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key.toString(),
        "-out", cert.toString()).redirectErrorStream(true).start();
    openssl.getInputStream().transferTo(OutputStream.nullOutputStream());
    assertEquals(0, openssl.waitFor(), "openssl could not make a self-signed certificate");
    Broker tls = CliBroker.start(vertx, work.resolve("tls-broker"), API_KEY, b -> b.tls(new TlsSettings(cert, key)));
    try {
      String https = "https://127.0.0.1:" + tls.port();
      // NATS over the HTTP port's WebSocket (/nats), so over the same TLS.
      String wss = "wss://127.0.0.1:" + tls.port() + "/nats";
      Map<String, String> config = Map.of("DSTREAM_CONFIG_DIR", work.resolve("config").toString());
      assertEquals(4, CliProcess.run(Map.of("DSTREAM_URL", https, "DSTREAM_NATS_URL", wss, "DSTREAM_API_KEY", API_KEY),
          null, "pub", "tls.a", "1").exitCode(), "an unknown certificate is refused");
      ok(config, "context", "add", "tls", "--url", https, "--nats-url", wss, "--api-key", API_KEY, "--ca-file",
          cert.toString());
      assertEquals("1", ok(config, "pub", "tls.a", "1").out().strip(), "NATS over TLS trusts the context's file");
      ok(config, "context", "add", "tls-tcp", "--url", https, "--nats-url", "tls://127.0.0.1:" + tls.natsPort(),
          "--api-key", API_KEY, "--ca-file", cert.toString());
      assertEquals("2", ok(config, "pub", "tls.a", "2", "--context", "tls-tcp").out().strip(),
          "so does NATS over TLS on the NATS port");
      assertTrue(ok(config, "info", "tls.a").out().contains("last sequence:  2"), "WebSocket v1 over TLS trusts it too");
      assertTrue(ok(config, "subjects", "ls").out().contains("tls.a"), "HTTPS trusts it too");
    } finally {
      CliBroker.stop(tls);
    }
  }

  @Test
  void completionCompletesCommandsInBash() throws Exception {
    String script = ok("completion", "bash").out();
    Path file = dir.resolve("dstream-completion.bash");
    Files.writeString(file, script);
    Process bash = new ProcessBuilder("bash", "-c", "source " + file + "; COMP_WORDS=(dstream fil); COMP_CWORD=1;"
        + " _complete_dstream; echo \"${COMPREPLY[@]}\"").redirectErrorStream(true).start();
    assertTrue(bash.waitFor(30, TimeUnit.SECONDS));
    assertEquals("files", new String(bash.getInputStream().readAllBytes()).strip());
    assertEquals(2, CliProcess.run(env, null, "completion", "fish").exitCode());
  }

  /** Every command and subcommand has --help ending with an example (checked on the model, no JVM each). */
  @Test
  void everyHelpShowsAnExample() {
    List<CommandLine> commands = new ArrayList<>(List.of(Dstream.commandLine()));
    for (int i = 0; i < commands.size(); i++) {
      commands.addAll(commands.get(i).getSubcommands().values());
    }
    for (CommandLine command : commands) {
      String help = command.getUsageMessage();
      assertTrue(help.contains("Example"), command.getCommandSpec().qualifiedName() + " --help shows no example:\n" + help);
    }
  }
}
