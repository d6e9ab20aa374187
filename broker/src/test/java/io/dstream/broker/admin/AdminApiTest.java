package io.dstream.broker.admin;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.core.buffer.Buffer;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The admin routes over a real socket: paged subject listing, one subject with its state, message pages. */
@ExtendWith(VertxExtension.class)
class AdminApiTest {

  private static HttpResponse<Buffer> get(WebClient web, TestBroker broker, String uri, String apiKey) {
    var request = web.request(HttpMethod.GET, broker.port(), "127.0.0.1", uri);
    if (apiKey != null) {
      request.putHeader("Authorization", "Bearer " + apiKey);
    }
    return request.send().await();
  }

  @Test
  void listsEverySubjectPageByPageWithSequences(Vertx vertx) throws Exception {
    WebClient web = WebClient.create(vertx);
    try (TestBroker broker = TestBroker.start(vertx)) {
      for (int s = 1; s <= 5; s++) {
        try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "admin.s" + s, TestBroker.API_KEY)) {
          for (int i = 0; i < s; i++) {
            client.request(i);
          }
        }
      }
      List<JsonObject> all = new ArrayList<>();
      String cursor = "";
      for (int page = 0; page < 10; page++) {
        JsonObject body = get(web, broker, "/admin/subjects?limit=2&cursor=" + cursor, TestBroker.API_KEY).bodyAsJsonObject();
        body.getJsonArray("subjects").forEach(s -> all.add((JsonObject) s));
        if (!body.getBoolean("truncated")) {
          break;
        }
        cursor = body.getString("cursor");
      }
      assertEquals(5, all.size());
      for (int s = 1; s <= 5; s++) {
        JsonObject subject = all.get(s - 1);
        assertEquals("admin.s" + s, subject.getString("subject"));
        assertEquals(1L, subject.getLong("firstSequence"));
        assertEquals(s, subject.getLong("lastSequence"));
        assertEquals(s, subject.getLong("messages"));
      }
    } finally {
      web.close();
    }
  }

  @Test
  void showsOneSubjectWithStateAndPagesItsMessagesWithTimestamps(Vertx vertx) throws Exception {
    WebClient web = WebClient.create(vertx);
    try (TestBroker broker = TestBroker.start(vertx)) {
      long before = System.currentTimeMillis();
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "admin.one", TestBroker.API_KEY)) {
        for (int i = 1; i <= 5; i++) {
          client.request(new JsonObject().put("n", i));
        }
        client.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("k", "v")));
        client.request(new JsonObject().put("cmd", "deleteMessages").put("sequence", 1));
      }
      JsonObject subject = get(web, broker, "/admin/subjects/admin.one", TestBroker.API_KEY).bodyAsJsonObject();
      assertEquals(2L, subject.getLong("firstSequence"));
      assertEquals(5L, subject.getLong("lastSequence"));
      assertEquals(new JsonObject().put("k", "v"), subject.getJsonObject("state"));

      JsonObject page = get(web, broker, "/admin/subjects/admin.one/messages?from=1&limit=3", TestBroker.API_KEY)
          .bodyAsJsonObject();
      JsonArray messages = page.getJsonArray("messages");
      assertEquals(3, messages.size());
      assertEquals(2L, messages.getJsonObject(0).getLong("sequence"), "deleted messages are skipped");
      assertTrue(messages.getJsonObject(0).getLong("ts") >= before);
      assertEquals(2, messages.getJsonObject(0).getJsonObject("message").getJsonObject("data").getInteger("n"));
      assertEquals(5L, page.getLong("next"));
      JsonObject rest = get(web, broker, "/admin/subjects/admin.one/messages?from=5", TestBroker.API_KEY).bodyAsJsonObject();
      assertEquals(1, rest.getJsonArray("messages").size());
      assertEquals(6L, rest.getLong("next"));
    } finally {
      web.close();
    }
  }

  @Test
  void messagePagesIncludeMessagesTheArchiveMovedOutOfTheLocalStore(Vertx vertx) throws Exception {
    WebClient web = WebClient.create(vertx);
    ArchivePolicy smallWindow = new ArchivePolicy(Duration.ofMillis(100), 5, 64L << 20, Duration.ofDays(1),
        Duration.ofMillis(50), Duration.ofMillis(400));
    try (TestBroker broker = TestBroker.start(vertx, b -> b.archivePolicy(smallWindow));
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "admin.archived", TestBroker.API_KEY)) {
      for (int i = 1; i <= 40; i++) {
        client.request(new JsonObject().put("n", i));
      }
      long deadline = System.currentTimeMillis() + 30_000;
      // Each message is under 150 bytes of JSON: 40 of them are far more than 5 x 150.
      while (client.command("getStreamInfo").getJsonObject("stream").getLong("bytes") > 5 * 150
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(client.command("getStreamInfo").getJsonObject("stream").getLong("bytes") <= 5 * 150, "evicted");

      JsonArray messages = get(web, broker, "/admin/subjects/admin.archived/messages?from=1&limit=1000",
          TestBroker.API_KEY).bodyAsJsonObject().getJsonArray("messages");
      assertEquals(40, messages.size());
      for (int i = 0; i < 40; i++) {
        assertEquals(i + 1L, messages.getJsonObject(i).getLong("sequence"));
        assertEquals(i + 1, messages.getJsonObject(i).getJsonObject("message").getJsonObject("data").getInteger("n"));
      }
    } finally {
      web.close();
    }
  }

  @Test
  void refusesMissingCredentialsUnknownSubjectsAndBadLimits(Vertx vertx) throws Exception {
    WebClient web = WebClient.create(vertx);
    try (TestBroker broker = TestBroker.start(vertx)) {
      assertEquals(401, get(web, broker, "/admin/subjects", null).statusCode());
      assertEquals(401, get(web, broker, "/admin/subjects", "wrong").statusCode());
      HttpResponse<Buffer> missing = get(web, broker, "/admin/subjects/no.such", TestBroker.API_KEY);
      assertEquals(404, missing.statusCode());
      assertEquals("not_found", missing.bodyAsJsonObject().getJsonObject("error").getString("code"));
      assertEquals(400, get(web, broker, "/admin/subjects?limit=0", TestBroker.API_KEY).statusCode());
      assertEquals(400, get(web, broker, "/admin/subjects?limit=x", TestBroker.API_KEY).statusCode());
      JsonObject empty = get(web, broker, "/admin/subjects", TestBroker.API_KEY).bodyAsJsonObject();
      assertEquals(0, empty.getJsonArray("subjects").size());
      assertFalse(empty.getBoolean("truncated"));
    } finally {
      web.close();
    }
  }
}
