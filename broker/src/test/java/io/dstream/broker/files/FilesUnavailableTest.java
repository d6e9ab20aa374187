package io.dstream.broker.files;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.S3Settings;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** An unreachable S3 endpoint: every file call is a 503 with a JSON error, and the streams keep working. */
@ExtendWith(VertxExtension.class)
class FilesUnavailableTest {

  @Test
  void fileCallsAnswer503AndStreamsKeepWorking(Vertx vertx) throws Exception {
    S3Settings dead = S3Settings.EMBEDDED.withEndpoint(TestS3.deadEndpoint(), TestS3.ACCESS_KEY, TestS3.SECRET_KEY);
    try (TestBroker broker = TestBroker.start(vertx, b -> b.s3(dead));
         FileClient files = new FileClient(vertx, broker.port(), TestBroker.API_KEY)) {
      for (FileClient.Answer answer : List.of(
          files.get("/r2/anything"),
          files.call(HttpMethod.HEAD, "/r2/anything", Map.of(), null),
          files.call(HttpMethod.PUT, "/r2/anything", Map.of(), Buffer.buffer("body")),
          files.call(HttpMethod.DELETE, "/r2/anything", Map.of(), null),
          files.get("/r2/?prefix=a"))) {
        assertEquals(503, answer.status());
        if (answer.body().length() > 0) {
          JsonObject error = answer.json().getJsonObject("error");
          assertEquals("storage_unavailable", error.getString("code"));
          assertTrue(error.getString("message").contains("unreachable"), error.getString("message"));
        }
      }
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "works.without.s3", TestBroker.API_KEY)) {
        assertEquals(1L, client.request(new JsonObject().put("n", 1)).getLong("sequence"));
        assertEquals(2L, client.request(new JsonObject().put("n", 2)).getLong("sequence"));
      }
    }
  }
}
