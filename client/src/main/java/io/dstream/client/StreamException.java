package io.dstream.client;

import java.util.Objects;

/**
 * A failure reported by the broker or detected by the client, identified by a stable {@link #code()}.
 *
 * <p>Broker errors carry the code and message of the protocol's {@code {"error":{"code","message"}}}
 * object (the codes are listed in the broker's {@code docs/protocol-v1.md}; the ones a caller acts on
 * have constants here). Failures detected on the client use the other constants, in the same
 * lower-case form, so callers can tell "the broker refused" from "the request never got an answer".
 */
public class StreamException extends RuntimeException {

  /** Broker: the write queue is full and nothing was stored; retrying later may succeed. */
  public static final String OVERLOADED = "overloaded";
  /** Broker: the write could not be made durable and nothing was stored. */
  public static final String STORAGE_ERROR = "storage_error";
  /** Broker: the command is unknown. */
  public static final String UNKNOWN_COMMAND = "unknown_command";
  /** Broker: a command argument is missing or of the wrong type. */
  public static final String INVALID_ARGUMENT = "invalid_argument";
  /** Broker: a {@code putState} expected another revision than the state's; nothing was written. */
  public static final String WRONG_REVISION = "wrong_revision";
  /** Broker: the subject breaks the naming rules (HTTP 400 before the upgrade). */
  public static final String INVALID_SUBJECT = "invalid_subject";

  /** Client: the connection closed before the request was answered; whether the broker applied it is unknown. */
  public static final String CONNECTION_CLOSED = "connection_closed";
  /**
   * Client, to the error handler only: the connection was lost and is being reopened; requests that
   * are safe to repeat wait for it.
   */
  public static final String CONNECTION_LOST = "connection_lost";
  /** Client: the connection could not be opened (network failure or timeout). */
  public static final String CONNECT_FAILED = "connect_failed";
  /** Client: no reply within {@link ClientOptions#requestTimeout()}; the broker may still apply the request. */
  public static final String REQUEST_TIMEOUT = "request_timeout";
  /** Client: {@link ClientOptions#maxPendingRequests()} requests were already waiting for a reply; nothing was sent. */
  public static final String TOO_MANY_PENDING = "too_many_pending";
  /** Client: the connection already has an active subscription; this client allows one per connection. */
  public static final String ALREADY_SUBSCRIBED = "already_subscribed";
  /** Client: the broker sent a frame this client cannot interpret. */
  public static final String BAD_FRAME = "bad_frame";
  /** Client: the WebSocket failed underneath the protocol (I/O error, oversized message); a close usually follows. */
  public static final String TRANSPORT_ERROR = "transport_error";

  /** @serial the machine-readable code returned by {@link #code()} */
  private final String code;

  /**
   * @param code a stable, machine-readable error code
   * @param message a human-readable description
   */
  public StreamException(String code, String message) {
    super(message);
    this.code = Objects.requireNonNull(code, "code");
  }

  /**
   * @param code a stable, machine-readable error code
   * @param message a human-readable description
   * @param cause the underlying failure
   */
  public StreamException(String code, String message, Throwable cause) {
    super(message, cause);
    this.code = Objects.requireNonNull(code, "code");
  }

  /** @return the machine-readable error code, from the broker or one of this class's constants */
  public String code() {
    return code;
  }

  @Override
  public String toString() {
    return getClass().getSimpleName() + "[" + code + "]: " + getMessage();
  }
}
