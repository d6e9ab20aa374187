package io.dstream.broker.faults;

import io.dstream.broker.TestBroker;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The S3 endpoint dies while a file upload streams and while publishers publish: the upload fails
 * cleanly with 503, publishing is unaffected, and once the endpoint is back uploads work again.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class S3OutageTest {

  private static final int CHUNK = 256 * 1024;

  @Test
  void anUploadCutByAnS3OutageFailsWith503WhileStreamsGoOn(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start();
         TestBroker broker = TestBroker.start(vertx, b -> b.s3(s3.settings()));
         V1TestClient publisher = V1TestClient.connect(vertx, broker.port(), "during.outage", TestBroker.API_KEY)) {
      HttpClient http = vertx.createHttpClient();
      HttpClientRequest upload = http.request(new RequestOptions().setMethod(HttpMethod.PUT).setHost("127.0.0.1")
          .setPort(broker.port()).setURI("/r2/big-upload").addHeader("Authorization", "Bearer " + TestBroker.API_KEY))
          .await();
      upload.setChunked(true);
      CompletableFuture<HttpClientResponse> answer = new CompletableFuture<>();
      CompletableFuture<Buffer> answerBody = new CompletableFuture<>();
      upload.response().onComplete(ar -> {
        if (ar.succeeded()) {
          ar.result().body().onComplete(body -> answerBody.complete(body.succeeded() ? body.result() : Buffer.buffer()));
          answer.complete(ar.result());
        } else {
          answer.completeExceptionally(ar.cause());
        }
      });
      Buffer chunk = Buffer.buffer(new byte[CHUNK]);
      long sequence = 0;
      for (int i = 0; i < 32; i++) {
        upload.write(chunk).await();
        sequence = publisher.request(new JsonObject().put("chunk", i)).getLong("sequence");
      }
      s3.pause();
      for (int i = 0; i < 400 && !answer.isDone(); i++) {
        upload.write(chunk);
        if (i % 20 == 0) {
          assertEquals(sequence + 1, publisher.request(new JsonObject().put("outage", i)).getLong("sequence"),
              "publishing goes on while S3 is down");
          sequence++;
        }
        Thread.sleep(5);
      }
      if (!answer.isDone()) {
        upload.end();
      }
      HttpClientResponse response = answer.get(60, TimeUnit.SECONDS);
      assertEquals(503, response.statusCode());
      JsonObject error = answerBody.get(30, TimeUnit.SECONDS).toJsonObject().getJsonObject("error");
      assertEquals("storage_unavailable", error.getString("code"));

      s3.resume();
      WebClient web = WebClient.create(vertx);
      int status = 0;
      for (int attempt = 0; attempt < 50 && status != 200; attempt++) {
        status = web.put(broker.port(), "127.0.0.1", "/r2/after-outage").putHeader("Authorization", "Bearer " + TestBroker.API_KEY)
            .sendBuffer(Buffer.buffer("back")).await().statusCode();
        if (status != 200) {
          Thread.sleep(100);
        }
      }
      assertEquals(200, status, "uploads work again once S3 is back");
      assertTrue(publisher.request(new JsonObject().put("after", true)).getLong("sequence") > sequence);
      http.close().await();
    }
  }
}
