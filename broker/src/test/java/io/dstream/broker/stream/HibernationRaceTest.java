package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests that arrive while their subject's actor releases itself (on another event loop than the
 * shard that finds it) wait for the release and reach the next actor: with a 10 ms idle timeout,
 * lanes of appends spaced 0 to 15 ms apart keep meeting actors on their way out, and still every
 * append is answered, with the next offset of its subject. (Without the wait, some request hangs:
 * at 60 appends per lane the race was not always met, hence 120, and the slow tag.)
 */
@Tag("slow")
@ExtendWith(VertxExtension.class)
class HibernationRaceTest {

  private static final int LANES = 24;
  private static final int APPENDS = 120;

  @Test
  @Timeout(90)
  void requestsMeetingAReleasingActorReachTheNextOneInOrder(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.idleTimeout(Duration.ofMillis(10)))) {
      WebClient http = WebClient.create(vertx);
      List<Future<Void>> lanes = new ArrayList<>();
      for (int lane = 0; lane < LANES; lane++) {
        lanes.add(lane(vertx, http, broker.port(), "race.lane" + lane, new Random(lane), 1));
      }
      Future.all(lanes).await();
      assertTrue(HibernationTest.metric(http, broker.port(), "dstream_actors_hibernated_total") >= LANES * 10,
          "the actors released themselves between the requests");
    }
  }

  /** Appends {@code APPENDS} records to {@code subject} one after another, checking each offset. */
  private static Future<Void> lane(Vertx vertx, WebClient http, int port, String subject, Random random, int next) {
    if (next > APPENDS) {
      return Future.succeededFuture();
    }
    return http.post(port, "127.0.0.1", "/stream/" + subject).putHeader("auth", TestBroker.API_KEY)
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add(next))).compose(posted -> {
          assertEquals(200, posted.statusCode(), posted.bodyAsString());
          assertEquals(new JsonArray().add(String.valueOf(next)), posted.bodyAsJsonObject().getJsonArray("offsets"));
          Promise<Void> paused = Promise.promise();
          vertx.setTimer(1 + random.nextInt(15), id -> paused.complete());
          return paused.future();
        }).compose(v -> lane(vertx, http, port, subject, random, next + 1));
  }
}
