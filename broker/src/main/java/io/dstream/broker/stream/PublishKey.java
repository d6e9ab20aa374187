package io.dstream.broker.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

/**
 * The dedup key of a publish: its {@code clientId} and {@code cMsgId} as the client wrote them
 * (raw JSON text, so {@code 7} and {@code 7.0} are different ids, exactly as the client chose them).
 * Stored objects carry both fields verbatim, so the key of a stored message is recovered from its
 * JSON when the {@link DedupWindow} is rebuilt. Thread-safe.
 */
public final class PublishKey {

  private static final JsonFactory JSON = new JsonFactory();

  private PublishKey() {
  }

  /** @return the key, or null when the publish has no client id to tell its publisher apart */
  public static String of(String rawClientId, String rawCMsgId) {
    if (rawClientId == null || rawCMsgId == null || rawClientId.equals("null")) {
      return null;
    }
    return rawClientId + ' ' + rawCMsgId;
  }

  /** @return the key of a stored object's top-level {@code clientId} and {@code cMsgId}, or null */
  static String ofStored(byte[] storedJson) {
    String text = new String(storedJson, StandardCharsets.UTF_8);
    String clientId = null;
    String cMsgId = null;
    try (JsonParser parser = JSON.createParser(text)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        return null;
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME && (clientId == null || cMsgId == null)) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        int start = (int) parser.currentTokenLocation().getCharOffset();
        if (value.isStructStart()) {
          parser.skipChildren();
        } else {
          parser.finishToken();
        }
        if (field.equals("clientId") || field.equals("cMsgId")) {
          String raw = text.substring(start, (int) parser.currentLocation().getCharOffset());
          if (field.equals("clientId")) {
            clientId = raw;
          } else {
            cMsgId = raw;
          }
        }
      }
    } catch (IOException e) {
      return null;
    }
    return of(clientId, cMsgId);
  }
}
