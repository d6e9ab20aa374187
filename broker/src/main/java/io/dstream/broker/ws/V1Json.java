package io.dstream.broker.ws;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamInfo;
import io.vertx.core.Future;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrameType;
import io.vertx.core.http.impl.websocket.WebSocketFrameImpl;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Renders the frames the broker sends. Stored objects ({@link StoredObject}) travel as the bytes
 * the log holds: a publisher's reply is the stored object itself, a push is the stored object with
 * two fields spliced in before its closing brace, never decoded or re-encoded. Replies to commands
 * are built from the client's original value text; only strings the broker adds are escaped here.
 */
final class V1Json {

  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] DUPLICATE = ",\"duplicate\":true}".getBytes(StandardCharsets.UTF_8);
  private static final byte[] PUSH = ",\"pub\":1,\"sMsgId\":".getBytes(StandardCharsets.UTF_8);

  private V1Json() {
  }

  /**
   * Writes UTF-8 JSON bytes as one text frame. Vert.x's public API builds text frames from Strings
   * only, which would decode and re-encode every push; its frame class takes the bytes as they are.
   */
  static Future<Void> writeText(ServerWebSocket socket, byte[] utf8) {
    return socket.writeFrame(new WebSocketFrameImpl(WebSocketFrameType.TEXT, utf8, true));
  }

  /** The reply to a repeated publish: the stored object for the original sequence, marked {@code "duplicate":true}. */
  static byte[] duplicate(byte[] stored) {
    return splice(stored, DUPLICATE, new byte[0]);
  }

  /** The push of a stored object: the object plus {@code pub} and the delivery id. */
  static byte[] push(byte[] stored, long deliveryId) {
    return splice(stored, PUSH, (deliveryId + "}").getBytes(StandardCharsets.US_ASCII));
  }

  /** {@code stored} without its closing brace, then {@code middle} and {@code end}. */
  private static byte[] splice(byte[] stored, byte[] middle, byte[] end) {
    int head = stored.length - 1;
    byte[] out = Arrays.copyOf(stored, head + middle.length + end.length);
    System.arraycopy(middle, 0, out, head, middle.length);
    System.arraycopy(end, 0, out, head + middle.length, end.length);
    return out;
  }

  /** A command reply: the request envelope plus ip, sequence and {@code extraFields} (",\"k\":v" or ""). */
  static String reply(V1Frame frame, String ip, long sequence, String extraFields) {
    byte[] envelope = StoredObject.prefix(frame.rawData(), frame.rawCMsgId(), frame.rawClientId(), ip);
    return new String(envelope, StandardCharsets.UTF_8) + sequence + extraFields + "}";
  }

  static String streamField(StreamInfo info) {
    return ",\"stream\":{\"firstSequence\":" + info.firstSequence() + ",\"lastSequence\":" + info.lastSequence()
        + ",\"messages\":" + info.messages() + ",\"bytes\":" + info.bytes() + ",\"subscribers\":" + info.subscribers() + "}";
  }

  /** An error; {@code rawCMsgId} null gives the connection-level form without {@code cMsgId}. */
  static String error(String rawCMsgId, V1ErrorCode code, String message) {
    String body = "\"error\":{\"code\":\"" + code.wire() + "\",\"message\":" + StoredObject.quote(message) + "}}";
    return rawCMsgId == null ? "{" + body : "{\"cMsgId\":" + rawCMsgId + "," + body;
  }

  /**
   * The text of the top-level field {@code name} of the JSON object {@code rawObject} exactly as
   * written (numbers and escapes untouched), if it is an object; null otherwise. The frame parser
   * already proved the text well-formed.
   */
  static String rawObjectField(String rawObject, String name) {
    try (JsonParser parser = JSON.createParser(rawObject)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        boolean wanted = name.equals(parser.currentName());
        JsonToken value = parser.nextToken();
        if (wanted) {
          if (value != JsonToken.START_OBJECT) {
            return null;
          }
          int start = (int) parser.currentTokenLocation().getCharOffset();
          parser.skipChildren();
          return rawObject.substring(start, (int) parser.currentLocation().getCharOffset());
        }
        parser.skipChildren();
      }
      return null;
    } catch (IOException e) {
      return null;
    }
  }
}
