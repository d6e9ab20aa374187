package io.dstream.broker.records;

import io.dstream.broker.TestBroker;
import io.dstream.broker.records.RecordsApiTest.RecordsClient;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The fencing token {@code ?version=}: every status, durability, and the race between two producers. */
@ExtendWith(VertxExtension.class)
class RecordsFencingTest {

  @Test
  void lowerVersionIs409HigherIsStoredEqualAndAbsentAreAllowed(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx)) {
      RecordsClient client = new RecordsClient(WebClient.create(vertx), broker);
      String subject = "fence.statuses";
      assertEquals(200, client.postRecords(subject, "version=5", new JsonArray().add("v5")).statusCode());
      HttpResponse<Buffer> fenced = client.postRecords(subject, "version=3", new JsonArray().add("v3"));
      assertEquals(409, fenced.statusCode());
      JsonObject body = fenced.bodyAsJsonObject();
      assertTrue(body.getValue("error") instanceof String, "the protocol's shape: error is a string");
      assertEquals(5L, body.getLong("current_version"));
      assertEquals(3L, body.getLong("provided_version"));
      assertEquals(200, client.postRecords(subject, "version=5", new JsonArray().add("again v5")).statusCode());
      assertEquals(200, client.postRecords(subject, "", new JsonArray().add("unversioned")).statusCode());
      assertEquals(new JsonObject().put("version", 7), client.post(subject, "version=7", "{\"records\":[]}").bodyAsJsonObject());
      assertEquals(new JsonObject().put("version", 7), client.post(subject, "version=7", "{\"records\":[]}").bodyAsJsonObject());
      assertEquals(409, client.post(subject, "version=6", "{\"records\":[]}").statusCode());
      assertEquals(List.of("1", "2", "3"), RecordsApiTest.offsets(client.get(subject, "offset=-")),
          "the fenced write stored nothing");

      broker.stop();
      broker.restart();
      client = new RecordsClient(WebClient.create(vertx), broker);
      HttpResponse<Buffer> afterRestart = client.postRecords(subject, "version=6", new JsonArray().add("stale"));
      assertEquals(409, afterRestart.statusCode(), "the version is durable");
      assertEquals(7L, afterRestart.bodyAsJsonObject().getLong("current_version"));
      assertEquals(new JsonObject().put("offsets", new JsonArray().add("4")),
          client.postRecords(subject, "version=8", new JsonArray().add("v8")).bodyAsJsonObject());
    }
  }

  /**
   * Two producers keep taking over from each other with ever higher versions while appending,
   * several requests in flight each. No record accepted under a version may land after a record
   * (or bump) of a higher version: the versions along the log never decrease, every accepted record
   * is there once, and no fenced one is.
   */
  @Test
  void twoProducersBumpingVersionsWhileAppendingNeverLandAStaleWriteAfterABump(Vertx vertx) throws Exception {
    int rounds = 40;
    int inFlight = 4;
    try (TestBroker broker = TestBroker.start(vertx)) {
      RecordsClient client = new RecordsClient(WebClient.create(vertx), broker);
      String subject = "fence.race";
      AtomicLong versions = new AtomicLong();
      Set<String> accepted = ConcurrentHashMap.newKeySet();
      Set<String> fenced = ConcurrentHashMap.newKeySet();
      ExecutorService producers = Executors.newFixedThreadPool(2);
      List<java.util.concurrent.Future<?>> running = new ArrayList<>();
      for (String producer : new String[] {"A", "B"}) {
        running.add(producers.submit(() -> {
          for (int round = 0; round < rounds; round++) {
            long version = versions.incrementAndGet();
            List<Future<HttpResponse<Buffer>>> posts = new ArrayList<>();
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < inFlight; i++) {
              String id = producer + "-" + version + "-" + i;
              ids.add(id);
              JsonArray records = new JsonArray().add(record(id, version, 0)).add(record(id, version, 1));
              posts.add(client.request(HttpMethod.POST, subject, "version=" + version)
                  .sendBuffer(Buffer.buffer(new JsonObject().put("records", records).encode())));
            }
            Future.all(posts).await();
            for (int i = 0; i < inFlight; i++) {
              HttpResponse<Buffer> response = posts.get(i).result();
              if (response.statusCode() == 200) {
                JsonArray offsets = response.bodyAsJsonObject().getJsonArray("offsets");
                assertEquals(Long.parseLong(offsets.getString(0)) + 1, Long.parseLong(offsets.getString(1)),
                    "the records of one POST are adjacent");
                accepted.add(ids.get(i));
              } else {
                assertEquals(409, response.statusCode(), response.bodyAsString());
                JsonObject body = response.bodyAsJsonObject();
                assertEquals(version, body.getLong("provided_version"));
                assertTrue(body.getLong("current_version") > version);
                fenced.add(ids.get(i));
              }
            }
          }
          return null;
        }));
      }
      for (java.util.concurrent.Future<?> producer : running) {
        producer.get(120, TimeUnit.SECONDS);
      }
      producers.shutdown();

      List<JsonObject> log = readAll(client, subject);
      long previousVersion = 0;
      Set<String> logged = new HashSet<>();
      for (JsonObject entry : log) {
        JsonObject data = entry.getJsonObject("data");
        long version = data.getLong("version");
        assertTrue(version >= previousVersion, "a write of version " + version + " landed after version "
            + previousVersion + " at offset " + entry.getString("offset"));
        previousVersion = version;
        if (data.getInteger("part") == 0) {
          assertTrue(logged.add(data.getString("id")), "stored twice: " + data);
        }
      }
      assertEquals(accepted, logged, "exactly the accepted writes are in the log");
      assertEquals(2 * accepted.size(), log.size());
      assertEquals(2 * rounds * inFlight, accepted.size() + fenced.size());
      assertTrue(!fenced.isEmpty() && !accepted.isEmpty(), "the race fenced some writes and accepted others");
    }
  }

  private static JsonObject record(String id, long version, int part) {
    return new JsonObject().put("id", id).put("version", version).put("part", part);
  }

  private static List<JsonObject> readAll(RecordsClient client, String subject) {
    List<JsonObject> log = new ArrayList<>();
    String offset = "-";
    for (int page = 0; page < 10_000; page++) {
      JsonArray records = client.get(subject, "offset=" + offset + "&limit=1000").bodyAsJsonObject().getJsonArray("records");
      if (records.isEmpty()) {
        return log;
      }
      for (Object record : records) {
        log.add((JsonObject) record);
      }
      offset = log.get(log.size() - 1).getString("offset");
    }
    throw new AssertionError("the log did not end");
  }
}
