package io.dstream.broker.auth;

/** A request presented no valid credential; the message is safe to send to the client. */
public final class AuthenticationException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public AuthenticationException(String message) {
    super(message, null, false, false);
  }
}
