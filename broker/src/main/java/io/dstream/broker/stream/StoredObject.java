package io.dstream.broker.stream;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.io.JsonStringEncoder;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;

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
    if (NatsStored.is(stored)) {
      return NatsStored.dedupKey(stored);
    }
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
   * {@code stored} as protocol v1 and the records API show messages: itself when it is a stored
   * object; a message published over NATS becomes one whose {@code data} is its payload (the JSON
   * value itself when the payload is JSON, else a JSON string of its text, else of its Base64 with
   * {@code "encoding":"base64"}), with {@code headers} as a string when it had some, and its sequence.
   */
  public static byte[] forV1(byte[] stored, long sequence) {
    if (!NatsStored.is(stored)) {
      return stored;
    }
    byte[] payload = NatsStored.payload(stored);
    byte[] headers = NatsStored.headers(stored);
    StringBuilder json = new StringBuilder(payload.length + 64).append("{\"data\":");
    String text = utf8OrNull(payload);
    if (text != null && isJson(payload)) {
      json.append(text);
    } else if (text != null) {
      json.append(quote(text));
    } else {
      json.append('"').append(Base64.getEncoder().encodeToString(payload)).append("\",\"encoding\":\"base64\"");
    }
    if (headers != null) {
      json.append(",\"headers\":").append(quote(new String(headers, StandardCharsets.UTF_8)));
    }
    return json.append(",\"sequence\":").append(sequence).append('}').toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The header block a NATS subscriber gets for {@code stored}: a NATS message's own, else none (null). */
  public static byte[] natsHeaders(byte[] stored) {
    return NatsStored.is(stored) ? NatsStored.headers(stored) : null;
  }

  /**
   * The payload a NATS subscriber gets for {@code stored}: a NATS message's own payload; for a
   * stored object its {@code data}, a JSON string as its text and any other value as its JSON text;
   * anything else (a Durable Streams message) as it is.
   */
  public static byte[] natsPayload(byte[] stored) {
    if (NatsStored.is(stored)) {
      return NatsStored.payload(stored);
    }
    int[] range;
    try {
      range = dataRange(stored);
    } catch (IllegalArgumentException e) {
      return stored;
    }
    if (range == null) {
      return new byte[0];
    }
    if (stored[range[0]] == '"') {
      try (JsonParser parser = JSON.createParser(stored, range[0], range[1] - range[0])) {
        parser.nextToken();
        return parser.getText().getBytes(StandardCharsets.UTF_8);
      } catch (IOException e) {
        return Arrays.copyOfRange(stored, range[0], range[1]);
      }
    }
    return Arrays.copyOfRange(stored, range[0], range[1]);
  }

  private static String utf8OrNull(byte[] bytes) {
    try {
      return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
    } catch (CharacterCodingException e) {
      return null;
    }
  }

  /** Whether {@code bytes} is exactly one JSON value. */
  private static boolean isJson(byte[] bytes) {
    try (JsonParser parser = JSON.createParser(bytes)) {
      if (parser.nextToken() == null) {
        return false;
      }
      parser.skipChildren();
      return parser.nextToken() == null;
    } catch (IOException e) {
      return false;
    }
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
