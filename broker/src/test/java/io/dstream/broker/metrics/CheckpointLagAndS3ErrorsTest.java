package io.dstream.broker.metrics;

import io.dstream.broker.TestBroker;
import io.dstream.broker.archive.Manifest;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.time.Duration;
import java.util.function.DoublePredicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The checkpoint lag gauges and the S3 error counter on {@code /metrics}, with the S3 endpoint
 * stopped and started again under a broker: the lag grows while checkpoints cannot be written (also
 * for a subject that hibernates meanwhile) and returns to 0 once they catch up; failed calls of the
 * checkpoint archive and of the file API count as S3 errors, a missing key does not.
 */
@ExtendWith(VertxExtension.class)
class CheckpointLagAndS3ErrorsTest {

  private static final ArchivePolicy FAST = new ArchivePolicy(Duration.ofMillis(100), 100_000, 64L << 20,
      Duration.ofDays(1), Duration.ofMillis(50), Duration.ofMillis(400));
  private static final String LAG = "dstream_archive_checkpoint_lag_seconds";
  private static final String BEHIND = "dstream_archive_subjects_behind";

  @Test
  void lagGrowsWhileS3IsDownEvenAfterHibernationAndReturnsToZeroWhenCheckpointsCatchUp(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start();
         TestBroker broker = TestBroker.start(vertx, Files.createTempDirectory("dstream-lag"),
             b -> b.s3(s3.settings()).archivePolicy(FAST).idleTimeout(Duration.ofMillis(300)))) {
      WebClient web = WebClient.create(vertx);
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "lagging", TestBroker.API_KEY)) {
        client.request(new JsonObject().put("before", true));
        awaitCheckpoint(broker, "lagging", 1);
        awaitMetric(web, broker, BEHIND, v -> v == 0, "no subject behind once everything is checkpointed");
        awaitMetric(web, broker, LAG, v -> v == 0, "no lag once everything is checkpointed");
        assertEquals(404, web.get(broker.port(), "127.0.0.1", "/r2/no-such-file")
            .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await().statusCode());
        assertEquals(0.0, metric(web, broker, "dstream_s3_errors_total"), "a missing key is no S3 error");

        s3.pause();
        client.request(new JsonObject().put("during", true));
      }
      double lag = awaitMetric(web, broker, LAG, v -> v > 0, "a checkpoint lag");
      assertEquals(1.0, metric(web, broker, BEHIND));
      awaitMetric(web, broker, "dstream_s3_errors_total", v -> v > 0, "checkpoint calls counted as S3 errors");
      awaitMetric(web, broker, "dstream_actors_active", v -> v == 0, "the subject hibernated");
      assertEquals(1.0, metric(web, broker, BEHIND), "a hibernated subject with checkpoint work still lags");
      awaitMetric(web, broker, LAG, v -> v > lag, "the lag growing");

      double fileErrors = metric(web, broker, "dstream_s3_errors_total{operation=\"put_object\"}");
      assertEquals(503, web.put(broker.port(), "127.0.0.1", "/r2/during-outage")
          .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).sendBuffer(Buffer.buffer("x")).await()
          .statusCode());
      awaitMetric(web, broker, "dstream_s3_errors_total{operation=\"put_object\"}", v -> v > fileErrors,
          "a failed file upload counted as an S3 error");

      s3.resume();
      awaitMetric(web, broker, BEHIND, v -> v == 0, "checkpoints catching up");
      awaitMetric(web, broker, LAG, v -> v == 0, "the lag back at 0");
    }
  }

  private static void awaitCheckpoint(TestBroker broker, String subject, long sequence) throws InterruptedException {
    for (int i = 0; i < 300; i++) {
      if (broker.broker().archive().manifest(subject, 0).await().map(Manifest::lastSequence).orElse(0L) >= sequence) {
        return;
      }
      Thread.sleep(100);
    }
    fail("not within 30 s: the checkpoint of " + subject + " up to " + sequence);
  }

  /**
   * Sum of the samples of {@code name}: a bare name adds up every label set, a name with
   * {@code {labels}} is that one sample; 0 if none.
   */
  private static double metric(WebClient web, TestBroker broker, String name) {
    String scrape = web.get(broker.port(), "127.0.0.1", "/metrics")
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await().bodyAsString();
    String labels = name.contains("{") ? "" : "(\\{[^}]*\\})?";
    Matcher matcher = Pattern.compile("(?m)^" + Pattern.quote(name) + labels + " (\\S+)$").matcher(scrape);
    double sum = 0;
    while (matcher.find()) {
      sum += Double.parseDouble(matcher.group(matcher.groupCount()));
    }
    return sum;
  }

  private static double awaitMetric(WebClient web, TestBroker broker, String name, DoublePredicate condition,
                                    String what) throws InterruptedException {
    double value = Double.NaN;
    for (int i = 0; i < 300; i++) {
      value = metric(web, broker, name);
      if (condition.test(value)) {
        return value;
      }
      Thread.sleep(100);
    }
    fail("not within 30 s: " + what + " (" + name + " is " + value + ")");
    return value;
  }
}
