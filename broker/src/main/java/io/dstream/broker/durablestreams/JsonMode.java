package io.dstream.broker.durablestreams;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonFactoryBuilder;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.util.ByteArrayBuilder;
import io.dstream.broker.stream.StreamError;
import io.vertx.core.buffer.Buffer;

import java.io.IOException;
import java.util.List;

/**
 * Streams of {@code application/json}: an append holds one JSON value or an array whose elements
 * are appended together; the stored message is the values, re-encoded on one line and joined by
 * commas. A read answers the values of its messages as one JSON array.
 *
 * <p>The body is split and compacted in one streaming pass (Jackson's parser copied token by token
 * into a generator): no tree of the values is ever built. Thread-safe.
 */
final class JsonMode {

  /** Jackson's default, as the tree decoder this replaced had. */
  private static final int MAX_NESTING_DEPTH = 1000;
  /** The generator separates the values it writes at its root by a comma: exactly the stored form. */
  private static final JsonFactory JSON = new JsonFactoryBuilder()
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
      .rootValueSeparator(",")
      .build();

  private JsonMode() {
  }

  /**
   * The stored form of a JSON body, or null for an empty array (allowed only on create).
   * @throws StreamError for invalid JSON or an empty array on append
   */
  static byte[] stored(byte[] body, boolean create) {
    ByteArrayBuilder out = new ByteArrayBuilder(body.length);
    try (JsonParser parser = JSON.createParser(body); JsonGenerator generator = JSON.createGenerator(out)) {
      JsonToken first = parser.nextToken();
      if (first == null) {
        throw invalid("no JSON value");
      }
      int values = 0;
      if (first == JsonToken.START_ARRAY) {
        while (parser.nextToken() != JsonToken.END_ARRAY) {
          generator.copyCurrentStructure(parser);
          values++;
        }
      } else {
        generator.copyCurrentStructure(parser);
        values = 1;
      }
      if (parser.nextToken() != null) {
        throw invalid("unexpected data after the JSON value");
      }
      generator.flush();
      if (values == 0) {
        if (create) {
          return null;
        }
        throw StreamError.invalid("empty_array", "empty arrays are not allowed in an append");
      }
    } catch (JsonProcessingException e) {
      throw invalid(e.getOriginalMessage());
    } catch (IOException e) {
      throw invalid(e.getMessage());
    }
    return out.toByteArray();
  }

  private static StreamError invalid(String reason) {
    return StreamError.invalid("invalid_json", "invalid JSON: " + reason);
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
