package io.dstream.broker.stream;

/** The broker refused a write because its bounded write queue is full; the client may retry. */
public final class OverloadedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public OverloadedException(String message) {
    super(message, null, false, false);
  }
}
