package io.dstream.broker.ws;

/** A frame the broker answers with an error; {@code rawCMsgId} is set when the reply may carry it. */
final class V1FrameException extends Exception {
  private static final long serialVersionUID = 1L;

  final V1ErrorCode code;
  final transient String rawCMsgId;

  V1FrameException(V1ErrorCode code, String message, String rawCMsgId) {
    super(message, null, false, false);
    this.code = code;
    this.rawCMsgId = rawCMsgId;
  }
}
