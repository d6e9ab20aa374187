package io.dstream.broker.config;

import java.time.Duration;

/**
 * Bounds on {@code /r2} uploads, so that uploads trickled by slow or hostile clients cannot take
 * the transfer threads every other file request needs.
 *
 * @param maxUploads          uploads in progress across the broker; more are refused with 503
 * @param maxUploadsPerClient uploads in progress from one client address (HTTP/1.1 carries one at a
 *                            time per connection); more are refused with 503
 * @param minBytes            an upload must deliver at least this many bytes per {@code interval}
 *                            while the broker is ready for more, or it is cut with 408
 * @param interval            the period over which {@code minBytes} is measured
 */
public record FileUploadLimits(int maxUploads, int maxUploadsPerClient, long minBytes, Duration interval) {

  public static final FileUploadLimits DEFAULT = new FileUploadLimits(8, 4, 16 * 1024, Duration.ofSeconds(10));

  public FileUploadLimits {
    if (maxUploads <= 0 || maxUploadsPerClient <= 0 || minBytes < 0) {
      throw new IllegalArgumentException("upload limits must be > 0 (the minimum rate >= 0)");
    }
    if (interval == null || interval.isNegative() || interval.isZero()) {
      throw new IllegalArgumentException("the upload rate interval must be a positive duration, got " + interval);
    }
  }
}
