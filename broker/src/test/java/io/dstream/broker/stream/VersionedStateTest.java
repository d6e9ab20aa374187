package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.archive.Manifest;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.h2.mvstore.MVMap;
import org.h2.mvstore.MVStore;
import org.h2.mvstore.type.ByteArrayDataType;
import org.h2.mvstore.type.StringDataType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The versioned state (docs/consumers-and-retention.md) over real sockets: revisions and
 * conflicting puts on protocol v1 and the admin API, a v1 watch, and the revision across a
 * restart, a restore from the bucket and a record written before revisions existed.
 */
@ExtendWith(VertxExtension.class)
class VersionedStateTest {

  private static final ArchivePolicy FAST = new ArchivePolicy(Duration.ofMillis(100), 100_000, 64L << 20,
      Duration.ofDays(1), Duration.ofMillis(50), Duration.ofMillis(400));

  private static JsonObject putState(V1TestClient client, JsonObject state, Long expectedRevision) {
    JsonObject command = new JsonObject().put("cmd", "putState").put("state", state);
    if (expectedRevision != null) {
      command.put("expectedRevision", expectedRevision);
    }
    return client.request(command);
  }

  private static HttpResponse<Buffer> adminPut(Vertx vertx, TestBroker broker, String subject, String ifMatch,
                                               String body) {
    var request = WebClient.create(vertx).put(broker.port(), "127.0.0.1", "/admin/subjects/" + subject + "/state")
        .putHeader("auth", TestBroker.API_KEY);
    if (ifMatch != null) {
      request.putHeader("If-Match", ifMatch);
    }
    return request.sendBuffer(Buffer.buffer(body)).await();
  }

  private static JsonObject adminGet(Vertx vertx, TestBroker broker, String subject) {
    return WebClient.create(vertx).get(broker.port(), "127.0.0.1", "/admin/subjects/" + subject)
        .putHeader("auth", TestBroker.API_KEY).send().await().bodyAsJsonObject();
  }

  @Test
  void v1PutsCountRevisionsAndAConflictNamesBothAndWritesNothing(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx); V1TestClient client =
        V1TestClient.connect(vertx, broker.port(), "kv.v1", TestBroker.API_KEY)) {
      JsonObject never = client.command("getState");
      assertEquals(0L, never.getLong("revision"));
      assertEquals(new JsonObject(), never.getJsonObject("state"));
      assertEquals(1L, putState(client, new JsonObject().put("n", 1), null).getLong("revision"));
      JsonObject second = putState(client, new JsonObject().put("n", 2), 1L);
      assertEquals(2L, second.getLong("revision"));
      assertEquals(0L, second.getLong("sequence"), "the reply is today's plus the revision");
      JsonObject conflict = putState(client, new JsonObject().put("n", 3), 1L).getJsonObject("error");
      assertEquals("wrong_revision", conflict.getString("code"));
      assertEquals("wrong revision: expected 1, state is at revision 2", conflict.getString("message"));
      assertEquals("invalid_argument", putState(client, new JsonObject(), -1L).getJsonObject("error").getString("code"));
      JsonObject current = client.command("getState");
      assertEquals(2L, current.getLong("revision"));
      assertEquals(new JsonObject().put("n", 2), current.getJsonObject("state"));
    }
  }

  @Test
  void aV1WatchGetsTheCurrentStateThenEveryChangeInOrderUntilUnwatched(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx);
         V1TestClient writer = V1TestClient.connect(vertx, broker.port(), "kv.watch", TestBroker.API_KEY);
         V1TestClient watcher = V1TestClient.connect(vertx, broker.port(), "kv.watch", TestBroker.API_KEY)) {
      putState(writer, new JsonObject().put("n", 0), null);
      JsonObject watching = watcher.command("watchState");
      assertEquals(1L, watching.getLong("revision"));
      assertEquals(new JsonObject().put("n", 0), watching.getJsonObject("state"));
      for (int n = 1; n <= 20; n++) {
        // Pipelined: several puts share a commit, and each is still told on its own.
        writer.send(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("n", n)));
      }
      for (int n = 1; n <= 20; n++) {
        writer.nextReply();
        JsonObject push = new JsonObject(V1TestClient.take(watcher.replies, 10));
        assertEquals(1, push.getInteger("statePub"));
        assertEquals(n + 1L, push.getLong("revision"));
        assertEquals(n, push.getJsonObject("state").getInteger("n"));
        assertFalse(push.containsKey("cMsgId") || push.containsKey("sMsgId") || push.containsKey("pub"), push.encode());
      }
      assertNull(watcher.command("unwatchState").getJsonObject("error"));
      putState(writer, new JsonObject().put("n", 21), null);
      assertEquals(22L, watcher.command("getState").getLong("revision"), "no push came before this reply");
    }
  }

  @Test
  void theAdminApiShowsTheRevisionAndHonoursIfMatch(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx)) {
      HttpResponse<Buffer> first = adminPut(vertx, broker, "kv.http", null, "{\"n\":1}");
      assertEquals(404, first.statusCode(), "the admin API creates no subject");
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "kv.http", TestBroker.API_KEY)) {
        putState(client, new JsonObject().put("n", 1), null);
      }
      HttpResponse<Buffer> put = adminPut(vertx, broker, "kv.http", "\"1\"", "{\"n\":2}");
      assertEquals(200, put.statusCode(), put.bodyAsString());
      assertEquals(2L, put.bodyAsJsonObject().getLong("revision"));
      assertEquals("\"2\"", put.getHeader("ETag"));
      HttpResponse<Buffer> stale = adminPut(vertx, broker, "kv.http", "\"1\"", "{\"n\":3}");
      assertEquals(412, stale.statusCode());
      assertEquals("wrong revision: expected 1, state is at revision 2",
          stale.bodyAsJsonObject().getJsonObject("error").getString("message"));
      assertEquals(400, adminPut(vertx, broker, "kv.http", "\"two\"", "{}").statusCode());
      JsonObject subject = adminGet(vertx, broker, "kv.http");
      assertEquals(2L, subject.getLong("stateRevision"));
      assertEquals(new JsonObject().put("n", 2), subject.getJsonObject("state"));
      assertEquals(3L, adminPut(vertx, broker, "kv.http", "*", "{\"n\":3}").bodyAsJsonObject().getLong("revision"));
    }
  }

  @Test
  void theRevisionSurvivesARestartAndARecordWrittenBeforeRevisionsOpens(Vertx vertx) throws Exception {
    Path dataDir = Files.createTempDirectory("dstream-kv");
    try (TestBroker broker = TestBroker.start(vertx, dataDir, b -> b)) {
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "kv.kept", TestBroker.API_KEY);
           V1TestClient old = V1TestClient.connect(vertx, broker.port(), "kv.old", TestBroker.API_KEY)) {
        for (int n = 1; n <= 3; n++) {
          putState(client, new JsonObject().put("n", n), null);
        }
        putState(old, new JsonObject().put("old", true), null);
      }
      broker.stop();
      broker.restart();
      assertEquals(3L, adminGet(vertx, broker, "kv.kept").getLong("stateRevision"), "after a restart");
      broker.stop();
      rewriteAsFormatFour(dataDir, "kv.old");
      broker.restart();
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "kv.old", TestBroker.API_KEY)) {
        JsonObject old = client.command("getState");
        assertEquals(1L, old.getLong("revision"), "an old record with a state reads as revision 1");
        assertEquals(new JsonObject().put("old", true), old.getJsonObject("state"));
        assertEquals(2L, putState(client, new JsonObject(), 1L).getLong("revision"));
      }
    }
  }

  /** Rewrites a subject's record as the previous version wrote it: format 4, no state revision. */
  private static void rewriteAsFormatFour(Path dataDir, String subject) {
    MVStore store = new MVStore.Builder().fileName(dataDir.resolve("dstream.mv.db").toString()).open();
    try {
      MVMap<String, byte[]> subjects = store.openMap("subjects",
          new MVMap.Builder<String, byte[]>().keyType(StringDataType.INSTANCE).valueType(ByteArrayDataType.INSTANCE));
      ByteBuffer v5 = ByteBuffer.wrap(subjects.get(subject));
      assertEquals(5, v5.get(), "the current format");
      int stateEnd = 1 + 6 * Long.BYTES + Integer.BYTES + v5.getInt(1 + 6 * Long.BYTES);
      byte[] v4 = new byte[v5.capacity() - Long.BYTES];
      v5.get(0, v4, 0, stateEnd);
      v5.get(stateEnd + Long.BYTES, v4, stateEnd, v4.length - stateEnd);
      v4[0] = 4;
      subjects.put(subject, v4);
      store.commit();
    } finally {
      store.close();
    }
  }

  @Test
  void theRevisionIsRestoredFromTheBucketAfterALostDisk(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start()) {
      try (TestBroker first = TestBroker.start(vertx, Files.createTempDirectory("dstream-kv"),
          b -> b.s3(s3.settings()).archivePolicy(FAST));
           V1TestClient client = V1TestClient.connect(vertx, first.port(), "kv.restored", TestBroker.API_KEY)) {
        for (int n = 1; n <= 4; n++) {
          putState(client, new JsonObject().put("n", n), null);
        }
        eventually(() -> first.broker().archive().manifest("kv.restored", 0).await()
            .map(Manifest::stateRevision).orElse(0L) == 4);
      }
      try (TestBroker restored = TestBroker.start(vertx, Files.createTempDirectory("dstream-kv"),
          b -> b.s3(s3.settings()).archivePolicy(FAST));
           V1TestClient client = V1TestClient.connect(vertx, restored.port(), "kv.restored", TestBroker.API_KEY)) {
        JsonObject state = client.command("getState");
        assertEquals(4L, state.getLong("revision"));
        assertEquals(new JsonObject().put("n", 4), state.getJsonObject("state"));
        assertEquals("wrong revision: expected 3, state is at revision 4",
            putState(client, new JsonObject(), 3L).getJsonObject("error").getString("message"));
      }
    }
  }

  private static void eventually(java.util.function.BooleanSupplier condition) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      if (condition.getAsBoolean()) {
        return;
      }
      Thread.sleep(100);
    }
    fail("no checkpoint of the revision within 30 s");
  }

  @Test
  void aDestroyStartsTheRevisionAgainAndClosesV1Watches(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx);
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "kv.gone", TestBroker.API_KEY);
         V1TestClient watcher = V1TestClient.connect(vertx, broker.port(), "kv.gone", TestBroker.API_KEY)) {
      putState(client, new JsonObject().put("n", 1), null);
      watcher.command("watchState");
      int status = WebClient.create(vertx).delete(broker.port(), "127.0.0.1", "/stream/kv.gone")
          .putHeader("auth", TestBroker.API_KEY).send().await().statusCode();
      assertTrue(status < 300, "destroyed: " + status);
      assertEquals((short) 4410, watcher.closed.get(10, java.util.concurrent.TimeUnit.SECONDS));
      assertEquals(0L, client.command("getState").getLong("revision"));
    }
  }
}
