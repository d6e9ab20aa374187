package io.dstream.broker.records;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import io.dstream.broker.stream.StreamError;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Parses a POST body {@code {"records":[...]}} in one streaming pass, cutting each record out of the
 * original text so it is stored byte for byte as sent (numbers keep their precision). Other
 * top-level fields are ignored. Thread-safe.
 */
final class RecordsBody {

  /** As for WebSocket frames: deep enough for real data, too shallow to exhaust the stack. */
  private static final int MAX_NESTING_DEPTH = 128;

  private final JsonFactory factory = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_NESTING_DEPTH).build())
      .build();

  /** The records as JSON texts, in order; an empty list for {@code "records": []}. */
  List<String> parse(String text, int maxRecords) {
    List<String> records = null;
    try (JsonParser parser = factory.createParser(text)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw StreamError.invalid("invalid_json", "the body must be a JSON object {\"records\":[...]}");
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        if (!"records".equals(field)) {
          parser.skipChildren();
          continue;
        }
        if (value != JsonToken.START_ARRAY) {
          throw StreamError.invalid("invalid_records", "records must be an array");
        }
        records = readArray(parser, text, maxRecords);
      }
      if (parser.nextToken() != null) {
        throw StreamError.invalid("invalid_json", "unexpected data after the JSON object");
      }
    } catch (JsonProcessingException e) {
      throw StreamError.invalid("invalid_json", "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw StreamError.invalid("invalid_json", "malformed JSON: " + e.getMessage());
    }
    if (records == null) {
      throw StreamError.invalid("invalid_records", "the body needs a records array");
    }
    return records;
  }

  private static List<String> readArray(JsonParser parser, String text, int maxRecords)
      throws IOException {
    List<String> records = new ArrayList<>();
    JsonToken value;
    while ((value = parser.nextToken()) != JsonToken.END_ARRAY) {
      if (records.size() == maxRecords) {
        throw StreamError.invalid("too_many_records", "at most " + maxRecords + " records per request");
      }
      int start = (int) parser.currentTokenLocation().getCharOffset();
      if (value.isStructStart()) {
        parser.skipChildren();
      } else {
        parser.finishToken();
      }
      records.add(text.substring(start, (int) parser.currentLocation().getCharOffset()));
    }
    return records;
  }
}
