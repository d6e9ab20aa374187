package io.dstream.broker.health;

import io.dstream.broker.archive.Archive;
import io.dstream.broker.s3.S3Connection;
import io.dstream.broker.store.MessageStore;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@code GET /health/ready}: whether the broker can do its work, component by component (docs/operations.md,
 * "Health"). The store is probed with a read on the store readers' pool; object storage with the
 * S3 connection's shared, rate-limited probe; checkpoints from the archive's figures. The answer is
 * {@code ok}, {@code degraded} (streams work, but files or checkpoints do not: 200, so a load balancer
 * keeps sending publishes that the local store makes durable) or {@code down} (the store fails:
 * 503). Unauthenticated, like {@code /health}; it names components and reasons, never data.
 *
 * <p>Threading: answered on the request's event loop; blocking probes run on worker pools.
 */
public final class Readiness {

  /** Object storage is probed at most this often; callers in between get the latest probe. */
  static final long S3_PROBE_MAX_AGE_MS = 5_000;
  /** A component probe that takes longer than this counts as failed. */
  static final long PROBE_TIMEOUT_MS = 3_000;

  private final MessageStore store;
  private final WorkerExecutor readers;
  private final S3Connection s3;
  private final Archive archive;
  private final Path dataDir;
  private final String version;

  public Readiness(MessageStore store, WorkerExecutor readers, S3Connection s3, Archive archive, Path dataDir,
                   String version) {
    this.store = store;
    this.readers = readers;
    this.s3 = s3;
    this.archive = archive;
    this.dataDir = dataDir;
    this.version = version;
  }

  public void handle(RoutingContext ctx) {
    Future<JsonObject> storeStatus = bounded(readers.executeBlocking(() -> {
      store.find("health.probe");
      return new JsonObject().put("status", "ok").put("freeBytes", Files.getFileStore(dataDir).getUsableSpace());
    }, false));
    Future<JsonObject> s3Status = bounded(s3.probe(S3_PROBE_MAX_AGE_MS).map(ok -> new JsonObject().put("status", "ok")));
    Future.join(storeStatus, s3Status).onComplete(done -> {
      JsonObject components = new JsonObject()
          .put("store", outcome(storeStatus, "the store"))
          .put("objectStorage", outcome(s3Status, "object storage"))
          .put("checkpoints", checkpoints());
      List<String> reasons = new ArrayList<>();
      components.forEach(entry -> {
        JsonObject component = (JsonObject) entry.getValue();
        if (!"ok".equals(component.getString("status"))) {
          reasons.add(entry.getKey() + ": " + component.getString("reason"));
        }
      });
      boolean down = !"ok".equals(components.getJsonObject("store").getString("status"));
      String status = down ? "down" : reasons.isEmpty() ? "ok" : "degraded";
      JsonObject answer = new JsonObject().put("status", status).put("version", version);
      if (!reasons.isEmpty()) {
        answer.put("reason", String.join("; ", reasons));
      }
      answer.put("components", components);
      ctx.response().setStatusCode(down ? 503 : 200).putHeader("Content-Type", "application/json")
          .putHeader("Cache-Control", "no-store").end(answer.encode());
    });
  }

  private JsonObject checkpoints() {
    Archive.CheckpointHealth health = archive.checkpointHealth();
    JsonObject json = new JsonObject().put("subjectsBehind", health.subjectsBehind())
        .put("lagSeconds", health.lagSeconds());
    if (health.latestAtMs() > 0) {
      json.put("latestAttempt", Instant.ofEpochMilli(health.latestAtMs()).toString());
    }
    if (health.latestFailure() == null) {
      return json.put("status", "ok");
    }
    return json.put("status", "failing")
        .put("reason", "the latest checkpoint failed and is retried: " + health.latestFailure());
  }

  private static Future<JsonObject> bounded(Future<JsonObject> probe) {
    return probe.timeout(PROBE_TIMEOUT_MS, TimeUnit.MILLISECONDS);
  }

  private static JsonObject outcome(Future<JsonObject> probe, String what) {
    if (probe.succeeded()) {
      return probe.result();
    }
    Throwable cause = probe.cause();
    String reason = cause.getMessage() == null ? cause.toString() : cause.getMessage();
    return new JsonObject().put("status", "down").put("reason", what + " failed: " + reason);
  }
}
