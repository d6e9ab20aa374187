package io.dstream.broker.durable;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Streams of {@code application/json}: an append holds one JSON value or an array whose elements
 * are appended together; the stored message is the values, re-encoded on one line and joined by
 * commas. A read answers the values of its messages as one JSON array.
 */
final class JsonMode {

  private JsonMode() {
  }

  /**
   * The stored form of a JSON body, or null for an empty array (allowed only on create).
   * @throws BadRequest for invalid JSON or an empty array on append
   */
  static byte[] stored(byte[] body, boolean create) {
    Object value;
    try {
      value = Json.decodeValue(Buffer.buffer(body));
    } catch (DecodeException e) {
      throw new BadRequest(400, "invalid_json", "invalid JSON: " + e.getMessage());
    }
    String stored;
    if (value instanceof JsonArray array) {
      if (array.isEmpty()) {
        if (create) {
          return null;
        }
        throw new BadRequest(400, "empty_array", "empty arrays are not allowed in an append");
      }
      StringBuilder joined = new StringBuilder();
      for (Object element : array) {
        if (joined.length() > 0) {
          joined.append(',');
        }
        joined.append(Json.encode(element));
      }
      stored = joined.toString();
    } else {
      stored = Json.encode(value);
    }
    return stored.getBytes(StandardCharsets.UTF_8);
  }

  /** The JSON array of the values of {@code messages}. */
  static byte[] response(List<byte[]> messages) {
    Buffer out = Buffer.buffer().appendByte((byte) '[');
    boolean first = true;
    for (byte[] message : messages) {
      if (message.length == 0) {
        continue;
      }
      if (!first) {
        out.appendByte((byte) ',');
      }
      out.appendBytes(message);
      first = false;
    }
    return out.appendByte((byte) ']').getBytes();
  }
}
