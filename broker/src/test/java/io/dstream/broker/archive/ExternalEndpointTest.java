package io.dstream.broker.archive;

import io.dstream.broker.BrokerProcess;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.MinioClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The broker as docker-compose runs it with MinIO: a separate process configured only through the
 * DSTREAM_S3_* variables, with MinIO-style credentials, against an S3 endpoint it does not embed.
 */
@ExtendWith(VertxExtension.class)
class ExternalEndpointTest {

  private static final String KEY = "external-key";

  @Test
  void filesAndCheckpointsGoToTheConfiguredEndpoint(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start();
         BrokerProcess broker = BrokerProcess.start(List.of("-Xmx256m"), Map.of(
             "DSTREAM_S3_ENDPOINT", s3.endpoint(),
             "DSTREAM_S3_BUCKET", "compose-bucket",
             "DSTREAM_S3_ACCESS_KEY", TestS3.ACCESS_KEY,
             "DSTREAM_S3_SECRET_KEY", TestS3.SECRET_KEY,
             "DSTREAM_S3_REGION", "us-east-1",
             "DSTREAM_CHECKPOINT_INTERVAL_MS", "200"), Files.createTempDirectory("dstream-external"), KEY)) {
      WebClient http = WebClient.create(vertx);
      HttpResponse<Buffer> put = http.put(broker.port(), "127.0.0.1", "/r2/from/broker.txt")
          .putHeader("Authorization", "Bearer " + KEY).sendBuffer(Buffer.buffer("stored in MinIO")).await();
      assertEquals(200, put.statusCode(), put.bodyAsString());
      MinioClient minio = MinioClient.builder().endpoint(s3.endpoint())
          .credentials(TestS3.ACCESS_KEY, TestS3.SECRET_KEY).region("us-east-1").build();
      try (GetObjectResponse object = minio.getObject(GetObjectArgs.builder().bucket("compose-bucket")
          .object("from/broker.txt").build())) {
        assertEquals("stored in MinIO", new String(object.readAllBytes(), StandardCharsets.UTF_8));
      }
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "compose.subject", KEY)) {
        client.request(new JsonObject().put("n", 1));
        client.request(new JsonObject().put("n", 2));
      }
      MinioObjectStore bucket = new MinioObjectStore(minio, "compose-bucket");
      for (int i = 0; i < 300; i++) {
        Optional<byte[]> manifest = bucket.get(ArchiveKeys.manifest("compose.subject", 0));
        if (manifest.isPresent() && Manifest.decode(manifest.get()).lastSequence() == 2) {
          assertTrue(bucket.list(ArchiveKeys.subjectPrefix("compose.subject") + "segments/").size() >= 1);
          minio.close();
          http.close();
          return;
        }
        Thread.sleep(100);
      }
      fail("no checkpoint of compose.subject in the configured bucket within 30 s");
    }
  }
}
