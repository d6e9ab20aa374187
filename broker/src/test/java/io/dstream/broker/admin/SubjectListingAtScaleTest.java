package io.dstream.broker.admin;

import io.dstream.broker.TestBroker;
import io.dstream.broker.store.MvMessageStore;
import io.dstream.broker.store.SyncMode;
import io.dstream.broker.store.SyncPolicy;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * The subject list the console pages through, with 1,000,000 subjects in the store: the first
 * page, a prefix deep inside the name space, the page after a cursor near the end, and a prefix
 * that matches nothing all answer the right subjects. How long each took is logged, not asserted
 * (timed asserts lie on a loaded machine); each is one B-tree descent plus one step per subject
 * returned, whatever the total.
 */
@Tag("slow")
class SubjectListingAtScaleTest {

  private static final Logger LOG = LoggerFactory.getLogger(SubjectListingAtScaleTest.class);
  private static final int SUBJECTS = 1_000_000;

  @Test
  void pagesAndPrefixSearchStayExactWithAMillionSubjects() throws Exception {
    Path dataDir = Files.createTempDirectory("dstream-million");
    try (MvMessageStore store = MvMessageStore.open(dataDir, 64, new SyncPolicy(SyncMode.OS, Duration.ofSeconds(1)))) {
      for (int i = 0; i < SUBJECTS; i++) {
        store.open(name(i));
        if (i % 50_000 == 49_999) {
          store.commit();
        }
      }
      store.commit();
    }
    Vertx vertx = Vertx.vertx();
    try (TestBroker broker = TestBroker.start(vertx, dataDir, b -> b)) {
      WebClient web = WebClient.create(vertx);
      JsonObject first = list(web, broker, "limit=100");
      assertEquals(100, first.getJsonArray("subjects").size());
      assertEquals(name(0), first.getJsonArray("subjects").getJsonObject(0).getString("subject"));
      assertEquals(name(99), first.getString("cursor"));

      JsonArray deep = list(web, broker, "prefix=tenant.73456&limit=100").getJsonArray("subjects");
      assertEquals(10, deep.size(), "tenant.734560 .. tenant.734569");
      assertEquals(name(734_560), deep.getJsonObject(0).getString("subject"));
      assertEquals(name(734_569), deep.getJsonObject(9).getString("subject"));

      JsonObject nearEnd = list(web, broker, "limit=1000&cursor=" + name(SUBJECTS - 501));
      assertEquals(500, nearEnd.getJsonArray("subjects").size());
      assertEquals(false, nearEnd.getBoolean("truncated"));
      assertEquals(name(SUBJECTS - 1), nearEnd.getJsonArray("subjects").getJsonObject(499).getString("subject"));

      assertEquals(0, list(web, broker, "prefix=tenant.x").getJsonArray("subjects").size());
      assertEquals(SUBJECTS, get(web, broker, "/admin/overview").getJsonObject("now").getLong("subjects"));
      web.close();
    } finally {
      vertx.close().await();
    }
  }

  private static String name(int i) {
    return String.format("tenant.%06d", i);
  }

  private static JsonObject list(WebClient web, TestBroker broker, String query) {
    long started = System.nanoTime();
    JsonObject page = get(web, broker, "/admin/subjects?" + query);
    LOG.info("GET /admin/subjects?{} over {} subjects: {} µs", query, SUBJECTS, (System.nanoTime() - started) / 1000);
    return page;
  }

  private static JsonObject get(WebClient web, TestBroker broker, String uri) {
    return web.request(HttpMethod.GET, broker.port(), "127.0.0.1", uri)
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await().bodyAsJsonObject();
  }
}
