package io.dstream.client;

/**
 * The broker refused the credentials (HTTP 401 before the WebSocket upgrade): the API key is
 * missing, wrong, or not allowed on this subject. Retrying with the same key will not help.
 */
public class AuthenticationException extends StreamException {

  /** The code used when the broker's 401 response carries no error object of its own. */
  public static final String UNAUTHORIZED = "unauthorized";

  /**
   * @param code the broker's error code, or {@link #UNAUTHORIZED}
   * @param message a human-readable description
   */
  public AuthenticationException(String code, String message) {
    super(code, message);
  }
}
