package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests that arrive while their subject's actor releases itself (it runs on another event loop
 * than the shard that finds it) wait for the release and reach the next actor: with a 10 ms idle
 * timeout, appends spaced from 0 to 30 ms apart keep meeting actors on their way out, and still
 * every append is answered with the next offset and every read sees all of them.
 */
@ExtendWith(VertxExtension.class)
class HibernationRaceTest {

  private static final int APPENDS = 200;

  @Test
  @Timeout(60)
  void requestsMeetingAReleasingActorReachTheNextOneInOrder(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.idleTimeout(Duration.ofMillis(10)))) {
      WebClient http = WebClient.create(vertx);
      Random random = new Random(12);
      for (int i = 1; i <= APPENDS; i++) {
        HttpResponse<Buffer> posted = http.post(broker.port(), "127.0.0.1", "/stream/race.subject")
            .putHeader("auth", TestBroker.API_KEY)
            .sendJsonObject(new JsonObject().put("records", new JsonArray().add(i))).await();
        assertEquals(200, posted.statusCode(), posted.bodyAsString());
        assertEquals(new JsonArray().add(String.valueOf(i)), posted.bodyAsJsonObject().getJsonArray("offsets"));
        if (i % 10 == 0) {
          JsonArray records = http.get(broker.port(), "127.0.0.1", "/stream/race.subject?offset=-&limit=1000")
              .putHeader("auth", TestBroker.API_KEY).send().await().bodyAsJsonObject().getJsonArray("records");
          assertEquals(i, records.size());
          assertEquals(i, records.getJsonObject(i - 1).getInteger("data"));
        }
        Thread.sleep(random.nextInt(31));
      }
      assertTrue(HibernationTest.metric(http, broker.port(), "dstream_actors_hibernated_total") >= 20,
          "the actor released itself between the requests");
    }
  }
}
