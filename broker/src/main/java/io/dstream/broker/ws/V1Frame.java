package io.dstream.broker.ws;

/**
 * A parsed client frame. The JSON values that are echoed back ({@code data}, {@code cMsgId},
 * {@code clientId}) are kept as the client's original text, so a float {@code cMsgId} such as
 * {@code 1.4411767384520637} and every number inside {@code data} come back byte for byte.
 *
 * @param ackId      the {@code sMsgId} when the frame is an ack, else 0
 * @param rawData    {@code data} as sent
 * @param command    {@code data.cmd} when {@code data} is an object with a {@code cmd} field, else null
 * @param rawCMsgId  {@code cMsgId} as sent
 * @param rawClientId {@code clientId} as sent, or {@code null}
 * @param dedup      {@code "dedup": true} was sent: a publish to store at most once per (clientId, cMsgId)
 */
record V1Frame(long ackId, String rawData, String command, String rawCMsgId, String rawClientId, boolean dedup) {

  V1Frame(long ackId, String rawData, String command, String rawCMsgId, String rawClientId) {
    this(ackId, rawData, command, rawCMsgId, rawClientId, false);
  }

  boolean isAck() {
    return ackId != 0;
  }
}
