package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
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
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Reads never create a subject, on any surface (docs/http.md): a reader, anonymous or not, cannot
 * grow the store. What each read of a never-written subject answers is documented and checked here.
 */
@ExtendWith(VertxExtension.class)
class ReadsCreateNoSubjectsTest {

  private static List<String> storedSubjects(WebClient http, TestBroker broker) {
    JsonArray subjects = http.get(broker.port(), "127.0.0.1", "/admin/subjects").putHeader("auth", TestBroker.API_KEY)
        .send().await().bodyAsJsonObject().getJsonArray("subjects");
    List<String> names = new ArrayList<>();
    subjects.forEach(s -> names.add(((JsonObject) s).getString("subject")));
    return names;
  }

  private static HttpResponse<Buffer> call(WebClient http, TestBroker broker, HttpMethod method, String uri) {
    return http.request(method, broker.port(), "127.0.0.1", uri).putHeader("auth", TestBroker.API_KEY).send().await();
  }

  @Test
  void readsOfNeverWrittenSubjectsStoreNothing(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx)) {
      WebClient http = WebClient.create(vertx);
      HttpResponse<Buffer> records = call(http, broker, HttpMethod.GET, "/stream/records.never?offset=-");
      assertEquals(200, records.statusCode());
      assertEquals(new JsonArray(), records.bodyAsJsonObject().getJsonArray("records"), "reads as empty");
      for (HttpMethod method : List.of(HttpMethod.HEAD, HttpMethod.GET, HttpMethod.DELETE)) {
        assertEquals(404, call(http, broker, method, "/v1/stream/ds-never").statusCode(), method.name());
      }
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "v1.never", TestBroker.API_KEY)) {
        JsonObject info = client.command("getStreamInfo").getJsonObject("stream");
        assertEquals(0L, info.getLong("lastSequence"), "never written: last sequence 0");
        assertEquals(new JsonObject(), client.command("getState").getJsonObject("state"));
        assertEquals(0L, client.request(new JsonObject().put("cmd", "subscribe")).getLong("sequence"));
      }
      for (int i = 0; i < 50; i++) {
        call(http, broker, HttpMethod.GET, "/stream/many.never." + i + "?offset=-");
      }
      assertEquals(List.of(), storedSubjects(http, broker), "no read created a subject");

      try (V1TestClient subscriber = V1TestClient.connect(vertx, broker.port(), "v1.never", TestBroker.API_KEY)) {
        subscriber.request(new JsonObject().put("cmd", "subscribe"));
        http.post(broker.port(), "127.0.0.1", "/stream/v1.never").putHeader("auth", TestBroker.API_KEY)
            .sendJsonObject(new JsonObject().put("records", new JsonArray().add("first"))).await();
        assertEquals(1L, subscriber.nextPush().getLong("sequence"), "a subscription made before the first write works");
      }
      assertEquals(List.of("v1.never"), storedSubjects(http, broker), "the write created it");
    }
  }
}
