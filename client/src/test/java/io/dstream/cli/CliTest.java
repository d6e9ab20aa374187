package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The CLI as a separate process against a real broker: output and the SQLite export (exit codes: {@link CliExitCodesTest}). */
@ExtendWith(VertxExtension.class)
class CliTest {

  private static final String API_KEY = "cli-test-key";

  @TempDir
  static Path dataDir;

  private static Broker broker;
  private static Map<String, String> env;

  @BeforeAll
  static void startBroker(Vertx vertx) throws Exception {
    broker = CliBroker.start(vertx, dataDir.resolve("broker"), API_KEY, b -> b);
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

  @Test
  void stateRevisionsExpectedRevisionAndWatch() throws Exception {
    assertEquals(List.of("state of cli.kv replaced: revision 1"), ok("state", "put", "cli.kv", "{\"n\":1}").lines());
    CliProcess.Result conflict = dstream("state", "put", "cli.kv", "{\"n\":2}", "--expect-revision", "0");
    assertEquals(1, conflict.exitCode());
    assertTrue(conflict.err().startsWith("dstream: wrong revision: expected 0, state is at revision 1; "), conflict.err());
    assertEquals(2L, new JsonObject(ok("state", "put", "cli.kv", "{\"n\":2}", "--expect-revision", "1", "--json").out())
        .getLong("revision"));
    assertTrue(ok("state", "get", "cli.kv").out().endsWith("revision 2" + System.lineSeparator()));

    // The watch prints the state current when it starts, then the next change: keep changing it until it has both.
    CliProcess.Running watch = CliProcess.start(env, null, "state", "watch", "cli.kv", "--count", "2", "--json");
    long deadline = System.nanoTime() + java.util.concurrent.TimeUnit.SECONDS.toNanos(30);
    for (int n = 3; watch.isAlive() && System.nanoTime() < deadline; n++) {
      ok("state", "put", "cli.kv", "{\"n\":" + n + "}");
    }
    List<String> watched = watch.finish().lines();
    JsonObject first = new JsonObject(watched.get(0));
    JsonObject second = new JsonObject(watched.get(1));
    assertEquals("cli.kv", first.getString("subject"));
    assertEquals(first.getLong("revision"), first.getJsonObject("state").getLong("n"), "state n is at revision n");
    assertTrue(second.getLong("revision") > first.getLong("revision"), watched.toString());

  }

  @Test
  void pubSubInfoStateAndRmRoundTrip() throws Exception {
    assertEquals(List.of("1"), ok("pub", "cli.orders", "{\"item\":\"book\"}").lines());
    assertEquals(new JsonObject().put("subject", "cli.orders").put("stream", "cli.orders").put("sequence", 2)
        .put("duplicate", false), new JsonObject(ok("pub", "cli.orders", "hello", "--json").out()));
    assertEquals(List.of("3", "4"), CliProcess.run(env, "[1,2]\n\n42\n", "pub", "cli.orders", "-").lines());

    assertEquals(List.of("1\t{\"item\":\"book\"}", "2\thello", "3\t[1,2]", "4\t42"),
        ok("sub", "cli.orders", "--count", "4").lines());
    List<String> fromThree = ok("sub", "cli.orders", "--from", "3", "--count", "1", "--json").lines();
    assertEquals(3L, new JsonObject(fromThree.get(0)).getLong("sequence"));

    JsonObject info = new JsonObject(ok("info", "cli.orders", "--json").out());
    assertEquals(4L, info.getLong("lastSequence"));
    assertTrue(ok("info", "cli.orders").out().contains("last sequence:  4"));

    ok("state", "put", "cli.orders", "{\"cursor\":3}");
    assertEquals(new JsonObject().put("subject", "cli.orders").put("revision", 1).put("state", new JsonObject().put("cursor", 3)),
        new JsonObject(ok("state", "get", "cli.orders", "--json").out()));

    JsonObject removed = new JsonObject(ok("rm", "cli.orders", "--upto", "2", "--json").out());
    assertEquals(3L, removed.getLong("firstSequence"));
    assertEquals(2L, removed.getLong("messages"));
    assertTrue(ok("subjects", "ls", "cli.>").out().contains("cli.orders"));
  }

  @Test
  void exportIsIncrementalAndQueryableWithSql(@TempDir Path exportDir) throws Exception {
    for (String region : List.of("eu", "us", "asia")) {
      StringBuilder lines = new StringBuilder();
      for (int n = 1; n <= 5; n++) {
        lines.append("{\"region\":\"").append(region).append("\",\"n\":").append(n).append("}\n");
      }
      assertEquals(0, CliProcess.run(env, lines.toString(), "pub", "export.orders." + region, "-").exitCode());
    }
    ok("pub", "export.other", "not exported");
    ok("state", "put", "export.orders.eu", "{\"cursor\":5}");
    Path file = exportDir.resolve("export.db");

    JsonObject first = new JsonObject(ok("export", "--sqlite", file.toString(), "--subjects", "export.orders.*", "--json").out());
    assertEquals(3, first.getInteger("subjects"));
    assertEquals(15L, first.getLong("messages"));
    assertEquals(3, first.getInteger("states"));

    ok("pub", "export.orders.eu", "{\"region\":\"eu\",\"n\":6}");
    ok("state", "put", "export.orders.us", "{\"cursor\":2}");
    JsonObject second = new JsonObject(ok("export", "--sqlite", file.toString(), "--subjects", "export.orders.*", "--json").out());
    assertEquals(1L, second.getLong("messages"), "only the new message is fetched");
    assertEquals(1, second.getInteger("states"), "only the changed state is fetched");
    assertEquals(2, second.getInteger("changedSubjects"));

    try (Connection db = DriverManager.getConnection("jdbc:sqlite:" + file); Statement sql = db.createStatement()) {
      assertEquals(16, single(sql, "SELECT count(*) FROM messages"));
      assertEquals(6, single(sql, "SELECT count(*) FROM messages WHERE json_extract(data, '$.region') = 'eu'"));
      assertEquals(15, single(sql, "SELECT sum(json_extract(data, '$.n')) FROM messages WHERE subject = 'export.orders.us'"));
      assertEquals(6, single(sql, "SELECT exported_sequence FROM subjects WHERE subject = 'export.orders.eu'"));
      assertEquals(0, single(sql, "SELECT count(*) FROM subjects WHERE subject = 'export.other'"));
      assertEquals(2, single(sql, "SELECT json_extract(state, '$.cursor') FROM state WHERE subject = 'export.orders.us'"));
      assertEquals(16, single(sql, "SELECT count(*) FROM messages WHERE ts > 0"));
    }
    JsonObject third = new JsonObject(ok("export", "--sqlite", file.toString(), "--subjects", "export.orders.*", "--json").out());
    assertEquals(0L, third.getLong("messages"));
    assertEquals(0, third.getInteger("changedSubjects"));
  }

  private static long single(Statement sql, String query) throws Exception {
    try (ResultSet row = sql.executeQuery(query)) {
      assertTrue(row.next(), query);
      return row.getLong(1);
    }
  }
}
