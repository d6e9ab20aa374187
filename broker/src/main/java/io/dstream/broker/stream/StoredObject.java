package io.dstream.broker.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The stored object, the one format of every message that protocol v1 and the records API write:
 * UTF-8 JSON {@code {"data":..,"cMsgId":..,"clientId":..,"ip":..,"sequence":N}}. Values the client
 * sent are kept as their original text ({@code 7} and {@code 7.0} stay apart), so the object is built
 * by concatenation and read back by one streaming pass that cuts fields out of the bytes, never by a
 * tree. Its bytes are what the log stores, what a push carries and what a publisher gets back.
 * Thread-safe (stateless).
 */
public final class StoredObject {

  private static final JsonFactory JSON = new JsonFactory();
  private static final byte[] SEQUENCE_END = "}".getBytes(StandardCharsets.UTF_8);

  private StoredObject() {
  }

  /**
   * The stored object up to {@code "sequence":}, for {@link #withSequence}. The raw arguments are
   * JSON texts ({@code "null"} for none); {@code ip} is a plain string or null.
   */
  public static byte[] prefix(String rawData, String rawCMsgId, String rawClientId, String ip) {
    return ("{\"data\":" + rawData + ",\"cMsgId\":" + rawCMsgId + ",\"clientId\":" + rawClientId + ",\"ip\":"
        + quote(ip) + ",\"sequence\":").getBytes(StandardCharsets.UTF_8);
  }

  /** The stored object of {@code prefix} at {@code sequence}. */
  public static byte[] withSequence(byte[] prefix, long sequence) {
    byte[] digits = Long.toString(sequence).getBytes(StandardCharsets.US_ASCII);
    byte[] stored = Arrays.copyOf(prefix, prefix.length + digits.length + SEQUENCE_END.length);
    System.arraycopy(digits, 0, stored, prefix.length, digits.length);
    System.arraycopy(SEQUENCE_END, 0, stored, prefix.length + digits.length, SEQUENCE_END.length);
    return stored;
  }

  /** The dedup key of a publish: its {@code clientId} and {@code cMsgId} as sent; null without a client id. */
  public static String dedupKey(String rawClientId, String rawCMsgId) {
    if (rawClientId == null || rawCMsgId == null || rawClientId.equals("null")) {
      return null;
    }
    return rawClientId + ' ' + rawCMsgId;
  }

  /** The dedup key of a stored object (see {@link #dedupKey(String, String)}), or null. */
  static String dedupKey(byte[] stored) {
    int[][] ranges;
    try {
      ranges = fields(stored, "clientId", "cMsgId");
    } catch (IllegalArgumentException e) {
      // Not a stored object: a Durable Streams message, whose view has its own producer rules.
      return null;
    }
    if (ranges[0] == null || ranges[1] == null) {
      return null;
    }
    return dedupKey(text(stored, ranges[0]), text(stored, ranges[1]));
  }

  /**
   * The byte range {@code [start, end)} of the top-level {@code data} value's original text, or null
   * when there is none.
   * @throws IllegalArgumentException when {@code stored} is not a JSON object
   */
  public static int[] dataRange(byte[] stored) {
    return fields(stored, "data")[0];
  }

  /** {@code value} as a JSON string literal; {@code null} for null. */
  public static String quote(String value) {
    if (value == null) {
      return "null";
    }
    return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(value)) + "\"";
  }

  private static String text(byte[] stored, int[] range) {
    return new String(stored, range[0], range[1] - range[0], StandardCharsets.UTF_8);
  }

  /** The byte ranges of the top-level fields {@code names}' values (null where absent), in one pass. */
  private static int[][] fields(byte[] stored, String... names) {
    int[][] ranges = new int[names.length][];
    int found = 0;
    try (JsonParser parser = JSON.createParser(stored)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new IllegalArgumentException("a stored message is not a JSON object");
      }
      while (found < names.length && parser.nextToken() == JsonToken.FIELD_NAME) {
        int wanted = Arrays.asList(names).indexOf(parser.currentName());
        JsonToken value = parser.nextToken();
        int start = (int) parser.currentTokenLocation().getByteOffset();
        if (value.isStructStart()) {
          parser.skipChildren();
        } else {
          parser.finishToken();
        }
        if (wanted >= 0 && ranges[wanted] == null) {
          ranges[wanted] = new int[] {start, (int) parser.currentLocation().getByteOffset()};
          found++;
        }
      }
      return ranges;
    } catch (IOException e) {
      throw new IllegalArgumentException("a stored message is not valid JSON", e);
    }
  }
}
