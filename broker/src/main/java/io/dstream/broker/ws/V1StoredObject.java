package io.dstream.broker.ws;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * The stored object of protocol v1, the one format every message of the log has, whichever view
 * wrote it: {@code {"data":..,"cMsgId":..,"clientId":..,"ip":..,"sequence":N}}. Values the client
 * sent are kept as their original text. Thread-safe.
 */
public final class V1StoredObject {

  private static final JsonFactory JSON = new JsonFactory();

  private V1StoredObject() {
  }

  /**
   * The stored object up to {@code "sequence":}; append the sequence and {@code "}"}. The raw
   * arguments are JSON texts ({@code "null"} for none); {@code ip} is a plain string or null.
   */
  public static String prefix(String rawData, String rawCMsgId, String rawClientId, String ip) {
    return "{\"data\":" + rawData + ",\"cMsgId\":" + rawCMsgId + ",\"clientId\":" + rawClientId + ",\"ip\":"
        + V1Json.quote(ip) + ",\"sequence\":";
  }

  /** The original text of the {@code data} value of a stored object ({@code null} if it has none). */
  public static String rawData(String storedJson) {
    try (JsonParser parser = JSON.createParser(storedJson)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("a stored message is not a JSON object");
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        boolean isData = "data".equals(parser.currentName());
        JsonToken value = parser.nextToken();
        int start = (int) parser.currentTokenLocation().getCharOffset();
        if (value.isStructStart()) {
          parser.skipChildren();
        } else {
          parser.finishToken();
        }
        if (isData) {
          return storedJson.substring(start, (int) parser.currentLocation().getCharOffset());
        }
      }
      return "null";
    } catch (IOException e) {
      throw new UncheckedIOException("a stored message is not valid JSON", e);
    }
  }
}
