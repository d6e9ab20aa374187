package io.dstream.broker.s3;

import io.dstream.broker.config.S3Settings;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.minio.BucketExistsArgs;
import io.minio.MakeBucketArgs;
import io.minio.MinioClient;
import io.minio.errors.ErrorResponseException;
import io.minio.errors.InvalidResponseException;
import io.minio.errors.ServerException;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * The broker's one connection to object storage: a {@link MinioClient} for the configured endpoint
 * (or for the {@link EmbeddedS3} it starts), the bucket, and two bounded worker pools so that no
 * S3 call ever runs on an event loop: {@link #transfer} for file uploads and downloads (long
 * calls), {@link #archive} for checkpoints and segment reads (short calls), so that a flood of
 * large files cannot delay checkpoints.
 *
 * <p>The bucket is created if missing, on first use: a broker whose endpoint is down at start
 * still starts (streams keep working) and every call tries again until the bucket is there.
 *
 * <p>Every call names its operation; a call that fails because the endpoint could not be reached,
 * answered badly or refused it counts in {@code dstream_s3_errors{operation}}. Answers a correct
 * request can get ({@link #EXPECTED_ANSWERS}: no such key, a failed precondition, ...) and failures
 * of the caller's own stream ({@link CallerStreamException}) are not errors of the endpoint.
 * Thread-safe.
 */
public final class S3Connection {

  private static final Logger LOG = LoggerFactory.getLogger(S3Connection.class);
  private static final long CONNECT_TIMEOUT_MS = 5_000;
  private static final long IO_TIMEOUT_MS = 60_000;
  /** Transfers of large files hold a worker for minutes; only a truly stuck call should be reported. */
  private static final long MAX_TRANSFER_MINUTES = 24 * 60;
  /** S3 error codes that answer the request about its object, with the endpoint working as it should. */
  static final Set<String> EXPECTED_ANSWERS = Set.of("NoSuchKey", "PreconditionFailed", "InvalidRange",
      "EntityTooLarge");

  private final Vertx vertx;
  private final MinioClient client;
  private final String bucket;
  private final EmbeddedS3 embedded;
  private final WorkerExecutor transfers;
  private final WorkerExecutor archives;
  private final int archiveThreads;
  private final MeterRegistry registry;
  private final Map<String, Counter> errors = new ConcurrentHashMap<>();
  private volatile boolean bucketReady;
  /** The latest reachability probe and when it started; guarded by {@code this}. */
  private Future<Void> probe;
  private long probeStartedNanos;

  private S3Connection(Vertx vertx, MinioClient client, String bucket, EmbeddedS3 embedded, S3Settings settings,
                       MeterRegistry registry) {
    this.vertx = vertx;
    this.registry = registry;
    this.client = client;
    this.bucket = bucket;
    this.embedded = embedded;
    this.transfers = vertx.createSharedWorkerExecutor("dstream-s3-transfer", settings.transferThreads(),
        MAX_TRANSFER_MINUTES, TimeUnit.MINUTES);
    this.archives = vertx.createSharedWorkerExecutor("dstream-s3-archive", settings.archiveThreads(),
        MAX_TRANSFER_MINUTES, TimeUnit.MINUTES);
    this.archiveThreads = settings.archiveThreads();
  }

  /** Starts the embedded server if no endpoint is set, builds the client and tries to create the bucket. */
  public static Future<S3Connection> start(Vertx vertx, S3Settings settings, Path dataDir, MeterRegistry registry) {
    return vertx.executeBlocking(() -> {
      EmbeddedS3 embedded = null;
      String endpoint = settings.endpoint();
      String accessKey = settings.accessKey();
      String secretKey = settings.secretKey();
      if (settings.embedded()) {
        embedded = EmbeddedS3.start(dataDir.resolve("s3"), "127.0.0.1", 0, accessKey, secretKey);
        endpoint = embedded.endpoint();
        accessKey = embedded.accessKey();
        secretKey = embedded.secretKey();
        LOG.info("embedded S3 endpoint on {} (data in {})", endpoint, dataDir.resolve("s3"));
      }
      MinioClient client = MinioClient.builder().endpoint(endpoint).credentials(accessKey, secretKey)
          .region(settings.region()).build();
      client.setTimeout(CONNECT_TIMEOUT_MS, IO_TIMEOUT_MS, IO_TIMEOUT_MS);
      S3Connection connection = new S3Connection(vertx, client, settings.bucket(), embedded, settings, registry);
      try {
        connection.ensureBucket();
      } catch (Exception e) {
        LOG.warn("S3 bucket '{}' at {} not reachable yet ({}); files and checkpoints retry until it is",
            settings.bucket(), endpoint, e.toString());
      }
      return connection;
    });
  }

  public MinioClient client() {
    return client;
  }

  public String bucket() {
    return bucket;
  }

  /** Size of the archive pool. */
  public int archiveThreads() {
    return archiveThreads;
  }

  /**
   * Checks that the endpoint answers and the bucket exists, for the readiness answer. Probes at most
   * once per {@code maxAgeMs}: callers in between share the latest probe, so a flood of health
   * checks costs the endpoint one call per period and the archive pool one thread at most.
   */
  public synchronized Future<Void> probe(long maxAgeMs) {
    long now = System.nanoTime();
    if (probe == null || probe.isComplete() && now - probeStartedNanos > TimeUnit.MILLISECONDS.toNanos(maxAgeMs)) {
      probeStartedNanos = now;
      probe = archive("health_probe", () -> {
        if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
          bucketReady = false;
          throw new IllegalStateException("bucket '" + bucket + "' does not exist");
        }
        return null;
      });
    }
    return probe;
  }

  /**
   * Runs a blocking S3 call on the transfer pool (after making sure the bucket exists);
   * {@code operation} labels its errors.
   */
  public <T> Future<T> transfer(String operation, Callable<T> call) {
    return run(transfers, operation, call);
  }

  /**
   * Runs a blocking S3 call on the archive pool (after making sure the bucket exists);
   * {@code operation} labels its errors.
   */
  public <T> Future<T> archive(String operation, Callable<T> call) {
    return run(archives, operation, call);
  }

  private <T> Future<T> run(WorkerExecutor pool, String operation, Callable<T> call) {
    Counter operationErrors = errors.computeIfAbsent(operation, name -> Counter.builder("dstream_s3_errors")
        .description("S3 calls that failed: endpoint unreachable, a bad answer, or a refusal").tag("operation", name)
        .register(registry));
    return pool.executeBlocking(() -> {
      ensureBucket();
      return call.call();
    }, false).onFailure(failure -> {
      if (endpointFailed(failure)) {
        operationErrors.increment();
      }
    });
  }

  /** True when {@code failure} is the endpoint's fault or refusal, not an expected answer or the caller's stream. */
  static boolean endpointFailed(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof CallerStreamException) {
        return false;
      }
    }
    String code = errorCode(failure);
    return code != null ? !EXPECTED_ANSWERS.contains(code) : unavailable(failure);
  }

  private void ensureBucket() throws Exception {
    if (bucketReady) {
      return;
    }
    synchronized (this) {
      if (bucketReady) {
        return;
      }
      if (!client.bucketExists(BucketExistsArgs.builder().bucket(bucket).build())) {
        try {
          client.makeBucket(MakeBucketArgs.builder().bucket(bucket).build());
          LOG.info("created S3 bucket '{}'", bucket);
        } catch (ErrorResponseException e) {
          String code = e.errorResponse().code();
          if (!"BucketAlreadyOwnedByYou".equals(code) && !"BucketAlreadyExists".equals(code)) {
            throw e;
          }
        }
      }
      bucketReady = true;
    }
  }

  /**
   * True when {@code failure} means the endpoint could not be reached or did not answer properly
   * (connection refused, timeout, a 5xx or a non-S3 answer), not that it refused the request.
   */
  public static boolean unavailable(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof IOException || t instanceof ServerException || t instanceof InvalidResponseException) {
        return true;
      }
    }
    return false;
  }

  /** The S3 error code of {@code failure} ({@code NoSuchKey}, ...), or {@code null} if it is not an S3 error answer. */
  public static String errorCode(Throwable failure) {
    for (Throwable t = failure; t != null; t = t.getCause()) {
      if (t instanceof ErrorResponseException e) {
        return e.errorResponse().code();
      }
    }
    return null;
  }

  /** Closes the pools and the client, then stops the embedded server. */
  public Future<Void> close() {
    return transfers.close().transform(ignored -> archives.close()).transform(ignored -> vertx.executeBlocking(() -> {
      try {
        client.close();
      } catch (Exception e) {
        LOG.warn("closing the S3 client failed: {}", e.toString());
      }
      if (embedded != null) {
        embedded.stop();
      }
      return null;
    }));
  }
}
