package io.dstream.broker.durable;

/** A request the protocol refuses, with the status and message to answer. */
final class BadRequest extends RuntimeException {
  private static final long serialVersionUID = 1L;

  final int status;
  final String code;

  BadRequest(int status, String code, String message) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
  }
}
