package io.dstream.broker.archive;

/** The bucket could not be reached (or has not answered yet) for something that needs it. */
public final class ArchiveUnavailableException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public ArchiveUnavailableException(String message, Throwable cause) {
    super(message, cause);
  }
}
