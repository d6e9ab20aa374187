package io.dstream.broker.ws;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;
import io.dstream.broker.stream.StreamInfo;

import java.io.IOException;

/**
 * Renders the frames the broker sends. Stored objects and replies are built from the client's
 * original value text (see {@link V1Frame}); only strings the broker adds are escaped here.
 */
final class V1Json {

  private static final JsonFactory JSON = new JsonFactory();

  private V1Json() {
  }

  /** {@code {"data":..,"cMsgId":..,"clientId":..,"ip":..,"sequence":} — append the sequence and "}". */
  static String envelopePrefix(V1Frame frame, String ip) {
    return V1StoredObject.prefix(frame.rawData(), frame.rawCMsgId(), frame.rawClientId(), ip);
  }

  /** The stored object of a publish, which is also the publisher's reply. */
  static String stored(String prefix, long sequence) {
    return prefix + sequence + "}";
  }

  /** The reply to a repeated publish: the stored object for the original sequence, marked {@code "duplicate":true}. */
  static String duplicate(String storedJson) {
    return storedJson.substring(0, storedJson.length() - 1) + ",\"duplicate\":true}";
  }

  /** A command reply: the request envelope plus ip, sequence and {@code extraFields} (",\"k\":v" or ""). */
  static String reply(V1Frame frame, String ip, long sequence, String extraFields) {
    return envelopePrefix(frame, ip) + sequence + extraFields + "}";
  }

  /** The push of a stored object: the object plus {@code pub} and the delivery id. */
  static String push(String storedJson, long deliveryId) {
    return storedJson.substring(0, storedJson.length() - 1) + ",\"pub\":1,\"sMsgId\":" + deliveryId + "}";
  }

  static String streamField(StreamInfo info) {
    return ",\"stream\":{\"firstSequence\":" + info.firstSequence() + ",\"lastSequence\":" + info.lastSequence()
        + ",\"messages\":" + info.messages() + ",\"bytes\":" + info.bytes() + ",\"subscribers\":" + info.subscribers() + "}";
  }

  /** An error; {@code rawCMsgId} null gives the connection-level form without {@code cMsgId}. */
  static String error(String rawCMsgId, V1ErrorCode code, String message) {
    String body = "\"error\":{\"code\":\"" + code.wire() + "\",\"message\":" + quote(message) + "}}";
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

  static String quote(String value) {
    if (value == null) {
      return "null";
    }
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(value)) + "\"";
  }
}
