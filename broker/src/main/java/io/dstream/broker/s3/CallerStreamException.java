package io.dstream.broker.s3;

import java.io.IOException;

/**
 * The caller's own data stream failed during an S3 call (a client stopped sending its upload), so
 * the call failed without any fault of the endpoint: answered like an outage, not counted as an
 * S3 error.
 */
public final class CallerStreamException extends IOException {

  private static final long serialVersionUID = 1L;

  public CallerStreamException(String message, Throwable cause) {
    super(message, cause);
  }
}
