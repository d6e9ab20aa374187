package io.dstream.broker.nats;

/**
 * A client broke the NATS protocol: it is told {@code -ERR '<message>'}, with nats-server's wording,
 * and its connection is closed. Nothing it sent before the violation is lost.
 */
final class ProtocolException extends Exception {
  private static final long serialVersionUID = 1L;

  ProtocolException(String message) {
    super(message, null, false, false);
  }
}
