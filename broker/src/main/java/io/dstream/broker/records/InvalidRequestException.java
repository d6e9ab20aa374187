package io.dstream.broker.records;

/** A records API request that is malformed: answered 400 with {@code code} and the message. */
final class InvalidRequestException extends Exception {
  private static final long serialVersionUID = 1L;

  final String code;

  InvalidRequestException(String code, String message) {
    super(message, null, false, false);
    this.code = code;
  }
}
