package io.dstream.broker.ws;

import io.dstream.broker.stream.StreamError;

/** The {@code error.code} values of protocol v1 (see docs/protocol-v1.md). */
public enum V1ErrorCode {
  /** The frame is not a JSON object (or has trailing data, duplicate keys, or is nested too deep). */
  INVALID_JSON("invalid_json"),
  /** The frame is JSON but not a request or ack: no {@code cMsgId}/{@code sMsgId}, bad id type, no {@code data}. */
  INVALID_FRAME("invalid_frame"),
  /** A binary frame; protocol v1 is JSON text only. */
  BINARY_FRAME("binary_frame"),
  /** {@code data.cmd} names no command. */
  UNKNOWN_COMMAND("unknown_command"),
  /** A command argument is missing or of the wrong type. */
  INVALID_ARGUMENT("invalid_argument"),
  /** An ack names no pending delivery. */
  UNKNOWN_ACK("unknown_ack"),
  /** The socket's credential does not allow this request on this subject. */
  FORBIDDEN("forbidden"),
  /** The socket sent requests faster than its rate limit; this one was not carried out. */
  RATE_LIMITED("rate_limited"),
  /** The broker's write queue is full; retry later. */
  OVERLOADED("overloaded"),
  /** The subject is at a retention limit with discard new; nothing was stored (docs/consumers-and-retention.md). */
  LIMIT_REACHED("limit_reached"),
  /** The message is larger than the subject's retention limit allows; nothing was stored. */
  MESSAGE_TOO_LARGE("message_too_large"),
  /** A {@code putState} expected another revision than the state's; nothing was written. */
  WRONG_REVISION("wrong_revision"),
  /** The write could not be made durable; nothing was stored. */
  STORAGE_ERROR("storage_error");

  private final String wire;

  /** The one mapping of a failed request onto protocol v1's codes. */
  static V1ErrorCode of(StreamError error) {
    return switch (error.kind()) {
      case OVERLOADED -> OVERLOADED;
      case INVALID -> INVALID_ARGUMENT;
      case LIMIT_REACHED -> LIMIT_REACHED;
      case TOO_LARGE -> MESSAGE_TOO_LARGE;
      case CONFLICT -> StreamError.WRONG_REVISION.equals(error.code()) ? WRONG_REVISION : STORAGE_ERROR;
      default -> STORAGE_ERROR;
    };
  }

  V1ErrorCode(String wire) {
    this.wire = wire;
  }

  /** The code as it appears on the wire. */
  public String wire() {
    return wire;
  }
}
