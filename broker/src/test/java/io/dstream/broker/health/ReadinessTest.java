package io.dstream.broker.health;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.s3.TestS3;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code GET /health/ready} tells the truth: {@code ok} with every component ok, {@code degraded}
 * naming object storage and the failing checkpoints while the S3 endpoint is down (200: streams
 * still work), {@code ok} again once it is back; {@code GET /health} stays the plain liveness answer.
 */
@ExtendWith(VertxExtension.class)
class ReadinessTest {

  /** Longer than the S3 probe's cache ({@link Readiness#S3_PROBE_MAX_AGE_MS}) plus a retried checkpoint. */
  private static final long WAIT_MS = 20_000;
  private static final ArchivePolicy FAST = new ArchivePolicy(Duration.ofMillis(100), 100_000, 64L * 1024 * 1024,
      Duration.ofDays(1), Duration.ofMillis(100), Duration.ofMillis(500));

  @Test
  void readyWithEveryComponentOkAndLivenessUnchanged(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.archivePolicy(FAST));
         V1TestClient publisher = V1TestClient.connect(vertx, broker.port(), "ready.orders", TestBroker.API_KEY)) {
      WebClient web = WebClient.create(vertx);
      HttpResponse<Buffer> live = web.get(broker.port(), "127.0.0.1", "/health").send().await();
      assertEquals(200, live.statusCode());
      assertEquals(new JsonObject().put("status", "ok"), live.bodyAsJsonObject());

      publisher.request(new JsonObject().put("n", 1));
      JsonObject ok = awaitReadiness(web, broker.port(), ready -> "ok".equals(ready.getString("status"))
          && ready.getJsonObject("components").getJsonObject("checkpoints").containsKey("latestAttempt"));
      JsonObject components = ok.getJsonObject("components");
      assertEquals("ok", components.getJsonObject("store").getString("status"));
      assertTrue(components.getJsonObject("store").getLong("freeBytes") > 0);
      assertEquals("ok", components.getJsonObject("objectStorage").getString("status"));
      assertEquals(0, components.getJsonObject("checkpoints").getInteger("subjectsBehind"));
      assertEquals("0.1.0", ok.getString("version"));
      assertEquals(0, composeHealthcheck(broker.port()), "docker-compose.yml's broker health check passes");
    }
  }

  /** Slow: waits out the S3 probe's cache and retried checkpoints. */
  @Test
  @Tag("slow")
  void degradedNamesObjectStorageAndCheckpointsWhileS3IsDown(Vertx vertx) throws Exception {
    try (TestS3 s3 = TestS3.start();
         TestBroker broker = TestBroker.start(vertx, b -> b.s3(s3.settings()).archivePolicy(FAST));
         V1TestClient publisher = V1TestClient.connect(vertx, broker.port(), "ready.orders", TestBroker.API_KEY)) {
      WebClient web = WebClient.create(vertx);
      publisher.request(new JsonObject().put("n", 1));
      awaitReadiness(web, broker.port(), ready -> "ok".equals(ready.getString("status")));

      s3.pause();
      publisher.request(new JsonObject().put("n", 2));
      JsonObject degraded = awaitReadiness(web, broker.port(), ready -> "degraded".equals(ready.getString("status"))
          && "down".equals(ready.getJsonObject("components").getJsonObject("objectStorage").getString("status"))
          && "failing".equals(ready.getJsonObject("components").getJsonObject("checkpoints").getString("status")));
      assertTrue(degraded.getString("reason").contains("objectStorage: object storage failed"), degraded.encode());
      assertTrue(degraded.getString("reason").contains("checkpoints: the latest checkpoint failed"), degraded.encode());
      assertEquals(1, degraded.getJsonObject("components").getJsonObject("checkpoints").getInteger("subjectsBehind"));
      assertEquals("ok", degraded.getJsonObject("components").getJsonObject("store").getString("status"));
      assertEquals(200, web.get(broker.port(), "127.0.0.1", "/health/ready").send().await().statusCode(),
          "degraded still serves streams: a load balancer keeps it");
      assertEquals(3L, publisher.request(new JsonObject().put("n", 3)).getLong("sequence"), "publishing goes on");
      assertEquals(1, composeHealthcheck(broker.port()), "docker-compose.yml's health check fails while degraded");

      s3.resume();
      awaitReadiness(web, broker.port(), ready -> "ok".equals(ready.getString("status")));
    }
  }

  /**
   * Runs the broker health check of docker-compose.yml (its {@code test:} array is JSON) against
   * {@code port}; @return its exit status.
   */
  private static int composeHealthcheck(int port) throws Exception {
    String line = Files.readAllLines(Path.of("..", "docker-compose.yml")).stream()
        .filter(l -> l.contains("/health/ready") && l.strip().startsWith("test:")).findFirst()
        .orElseThrow(() -> new AssertionError("docker-compose.yml checks /health/ready"));
    JsonArray test = new JsonArray(line.substring(line.indexOf('[')));
    assertEquals("CMD", test.getString(0));
    List<String> command = new ArrayList<>();
    for (int i = 1; i < test.size(); i++) {
      command.add(test.getString(i).replace("8787", Integer.toString(port)));
    }
    Process check = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertTrue(check.waitFor(30, TimeUnit.SECONDS));
    return check.exitValue();
  }

  /** Polls the readiness answer (no credentials) until {@code wanted} holds; fails with the last answer. */
  private static JsonObject awaitReadiness(WebClient web, int port, Predicate<JsonObject> wanted) throws Exception {
    long deadline = System.currentTimeMillis() + WAIT_MS;
    JsonObject last = null;
    while (System.currentTimeMillis() < deadline) {
      last = web.get(port, "127.0.0.1", "/health/ready").send().await().bodyAsJsonObject();
      if (wanted.test(last)) {
        return last;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("readiness never became as expected; last answer: " + last);
  }
}
