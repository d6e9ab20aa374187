package io.dstream.broker.config;

import java.util.Objects;

/**
 * Where files and checkpoints go: an S3-compatible endpoint, or (with {@code endpoint == null}) the
 * embedded one the broker starts on loopback with its data under {@code DATA_DIR/s3}.
 *
 * @param endpoint      URL of the S3 endpoint; {@code null} starts the embedded server
 * @param bucket        bucket for files and checkpoints, created if missing
 * @param accessKey     access key; {@code null} with the embedded server = the embedded server's own
 * @param secretKey     secret key; {@code null} with the embedded server = the embedded server's own
 * @param region        signing region
 * @param transferThreads worker threads for file transfers (each upload or download chunk holds one)
 * @param archiveThreads  worker threads for checkpoints, restores and segment reads
 * @param partSizeBytes part size of multipart uploads of bodies of unknown length (memory per upload)
 * @param maxListLimit  largest {@code limit} of a file listing (also its default)
 */
public record S3Settings(String endpoint, String bucket, String accessKey, String secretKey, String region,
                         int transferThreads, int archiveThreads, long partSizeBytes, int maxListLimit) {

  /** The smallest part S3 accepts for every part but the last. */
  public static final long MIN_PART_SIZE = 5L * 1024 * 1024;

  public static final S3Settings EMBEDDED = new S3Settings(null, "durable-stream", null, null, "us-east-1",
      16, 4, 16L * 1024 * 1024, 1000);

  public S3Settings {
    endpoint = endpoint == null || endpoint.isBlank() ? null : endpoint;
    accessKey = accessKey == null || accessKey.isBlank() ? null : accessKey;
    secretKey = secretKey == null || secretKey.isBlank() ? null : secretKey;
    Objects.requireNonNull(bucket, "bucket");
    Objects.requireNonNull(region, "region");
    if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
      throw new IllegalArgumentException("s3 bucket must be a valid S3 bucket name, got '" + bucket + "'");
    }
    if (endpoint != null && (accessKey == null || secretKey == null)) {
      throw new IllegalArgumentException("an s3 endpoint needs both an access key and a secret key");
    }
    if (transferThreads <= 0 || archiveThreads <= 0 || maxListLimit <= 0) {
      throw new IllegalArgumentException("s3 thread counts and the list limit must be > 0");
    }
    if (partSizeBytes < MIN_PART_SIZE) {
      throw new IllegalArgumentException("s3 part size must be >= " + MIN_PART_SIZE + ", got " + partSizeBytes);
    }
  }

  /** True when the broker runs its own endpoint. */
  public boolean embedded() {
    return endpoint == null;
  }

  public S3Settings withEndpoint(String newEndpoint, String newAccessKey, String newSecretKey) {
    return new S3Settings(newEndpoint, bucket, newAccessKey, newSecretKey, region, transferThreads, archiveThreads,
        partSizeBytes, maxListLimit);
  }
}
