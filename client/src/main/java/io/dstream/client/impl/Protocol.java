package io.dstream.client.impl;

import io.dstream.client.StreamException;
import io.dstream.client.StreamInfo;
import io.dstream.client.VersionedState;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;

/**
 * The field names and frame shapes of WebSocket protocol v1, in one place so the connection code
 * reads as protocol rules. Every frame is a JSON object sent as one text message.
 *
 * <ul>
 *   <li>request: {@code {"data": any, "cMsgId": n, "clientId": n}}; data with a {@code "cmd"} field is a command;
 *       a publish adds {@code "dedup": true}</li>
 *   <li>reply: carries the request's {@code cMsgId}, plus {@code "error": {"code","message"}} on failure</li>
 *   <li>push: a stored record plus {@code "pub": 1} and {@code "sMsgId"}; acknowledged by sending it
 *       back without {@code "pub"}</li>
 *   <li>connection error: {@code {"error": {...}}} with no {@code cMsgId}</li>
 * </ul>
 */
final class Protocol {

  static final String DATA = "data";
  static final String CLIENT_MESSAGE_ID = "cMsgId";
  static final String CLIENT_ID = "clientId";
  static final String SEQUENCE = "sequence";
  static final String PUSH_MARKER = "pub";
  static final String SERVER_MESSAGE_ID = "sMsgId";
  static final String ERROR = "error";
  static final String ERROR_CODE = "code";
  static final String ERROR_MESSAGE = "message";

  static final String COMMAND = "cmd";
  static final String GET_STREAM_INFO = "getStreamInfo";
  static final String SUBSCRIBE = "subscribe";
  static final String START_SEQUENCE = "startSequence";
  static final String START_TIME = "startTime";
  /** Marks a publish the broker stores at most once per (clientId, cMsgId) within its dedup window. */
  static final String DEDUP = "dedup";
  static final String UNSUBSCRIBE = "unsubscribe";
  static final String DELETE_MESSAGES = "deleteMessages";
  static final String GET_STATE = "getState";
  static final String PUT_STATE = "putState";
  static final String STATE = "state";
  static final String WATCH_STATE = "watchState";
  static final String UNWATCH_STATE = "unwatchState";
  static final String REVISION = "revision";
  static final String EXPECTED_REVISION = "expectedRevision";
  /** Marks a state watch's push (no {@code cMsgId}, no {@code sMsgId}). */
  static final String STATE_PUSH_MARKER = "statePub";
  static final String STREAM = "stream";

  /** The code given to a broker error whose shape is not {@code {"code","message"}}. */
  static final String UNKNOWN_ERROR_CODE = "unknown";

  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private Protocol() {
  }

  static JsonObject command(String name) {
    return new JsonObject().put(COMMAND, name);
  }

  static JsonObject request(Object data, long requestId, long clientId) {
    return new JsonObject().put(DATA, data).put(CLIENT_MESSAGE_ID, requestId).put(CLIENT_ID, clientId);
  }

  static JsonObject publishRequest(Object data, long requestId, long clientId) {
    return request(data, requestId, clientId).put(DEDUP, true);
  }

  /** The ack of a push: the push itself minus the marker, a shallow copy keeping the sMsgId exactly as sent. */
  static JsonObject ack(JsonObject push) {
    JsonObject ack = new JsonObject(new LinkedHashMap<>(push.getMap()));
    ack.remove(PUSH_MARKER);
    return ack;
  }

  /**
   * @return {@code data} in the form the request frame carries it
   * @throws IllegalArgumentException for a value the protocol cannot carry as a message
   */
  static Object publishable(Object data) {
    if (data instanceof JsonObject object && object.containsKey(COMMAND)) {
      throw new IllegalArgumentException("cannot publish an object with a \"" + COMMAND
          + "\" field: the protocol reads it as a command");
    }
    if (data instanceof Double number && !Double.isFinite(number)
        || data instanceof Float small && !Float.isFinite(small)) {
      throw new IllegalArgumentException("cannot publish " + data + ": JSON has no such number");
    }
    if (data instanceof CharSequence text) {
      return text.toString();
    }
    if (data == null || data instanceof JsonObject || data instanceof JsonArray
        || data instanceof Number || data instanceof Boolean) {
      return data;
    }
    throw new IllegalArgumentException("cannot publish a " + data.getClass().getName()
        + ": use JsonObject, JsonArray, String, Number, Boolean or null");
  }

  static StreamException error(Object error) {
    if (error instanceof JsonObject object) {
      return new StreamException(object.getString(ERROR_CODE, UNKNOWN_ERROR_CODE),
          object.getString(ERROR_MESSAGE, object.encode()));
    }
    return new StreamException(UNKNOWN_ERROR_CODE, String.valueOf(error));
  }

  static long requiredLong(JsonObject frame, String field) {
    if (!(frame.getValue(field) instanceof Number number)) {
      throw new StreamException(StreamException.BAD_FRAME, "missing number \"" + field + "\" in " + frame.encode());
    }
    return number.longValue();
  }

  /** The state and revision of a {@code getState} or {@code watchState} reply, or of a state push. */
  static VersionedState versionedState(JsonObject frame) {
    JsonObject state = frame.getJsonObject(STATE);
    Long revision = frame.getLong(REVISION);
    return new VersionedState(state == null ? new JsonObject() : state, revision == null ? 0 : revision);
  }

  static StreamInfo streamInfo(JsonObject reply) {
    JsonObject stream = reply.getJsonObject(STREAM);
    if (stream == null) {
      throw new StreamException(StreamException.BAD_FRAME, "missing \"" + STREAM + "\" in " + reply.encode());
    }
    return new StreamInfo(
        requiredLong(stream, "firstSequence"),
        requiredLong(stream, "lastSequence"),
        requiredLong(stream, "messages"),
        requiredLong(stream, "bytes"),
        Math.toIntExact(requiredLong(stream, "subscribers")));
  }

  /**
   * Percent-encodes everything but RFC 3986's unreserved characters, which is valid in a path
   * segment and in a query value alike (unlike {@link java.net.URLEncoder}'s {@code +} for space).
   */
  static String percentEncode(String value) {
    StringBuilder encoded = new StringBuilder(value.length());
    for (byte b : value.getBytes(StandardCharsets.UTF_8)) {
      char c = (char) (b & 0xFF);
      if (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
          || c == '-' || c == '.' || c == '_' || c == '~') {
        encoded.append(c);
      } else {
        encoded.append('%').append(HEX[(b >> 4) & 0x0F]).append(HEX[b & 0x0F]);
      }
    }
    return encoded.toString();
  }
}
