package io.dstream.broker.ws;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;

import java.io.IOException;

/**
 * The reference for {@link V1FrameParserTest}: the broker's former frame parser on Jackson's
 * streaming parser, which defined the accepted grammar before the hand-written scanner replaced it
 * for speed.
 *
 * <p>Rules: the frame is one JSON object; a non-null {@code sMsgId} makes it an ack (checked before
 * {@code cMsgId}, because acks echo the publisher's {@code cMsgId}); otherwise {@code cMsgId} (a number
 * or a string) and {@code data} are required. Duplicate keys are refused.
 */
final class JacksonFrameParser {

  private final JsonFactory factory = JsonFactory.builder()
      .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
      .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(V1FrameParser.MAX_NESTING_DEPTH).build())
      .build();

  V1Frame parse(String text) throws V1FrameException {
    String rawData = null;
    String command = null;
    String rawCMsgId = null;
    String rawClientId = null;
    String rawAckId = null;
    boolean ackIdIsNumber = false;
    try (JsonParser parser = factory.createParser(text)) {
      if (parser.nextToken() != JsonToken.START_OBJECT) {
        throw new V1FrameException(V1ErrorCode.INVALID_JSON, "a frame must be a JSON object", null);
      }
      while (parser.nextToken() == JsonToken.FIELD_NAME) {
        String field = parser.currentName();
        JsonToken value = parser.nextToken();
        int start = (int) parser.currentTokenLocation().getCharOffset();
        switch (field) {
          case "data":
            command = value == JsonToken.START_OBJECT ? scanCommand(parser) : skip(parser, value);
            rawData = text.substring(start, end(parser));
            break;
          case "cMsgId":
            rawCMsgId = idText(parser, value, text, start);
            break;
          case "clientId":
            skip(parser, value);
            rawClientId = text.substring(start, end(parser));
            break;
          case "sMsgId":
            ackIdIsNumber = value == JsonToken.VALUE_NUMBER_INT;
            rawAckId = value == JsonToken.VALUE_NULL ? null : text.substring(start, endAfterSkip(parser, value));
            break;
          default:
            skip(parser, value);
        }
      }
      if (parser.nextToken() != null) {
        throw new V1FrameException(V1ErrorCode.INVALID_JSON, "unexpected data after the JSON object", null);
      }
    } catch (JsonProcessingException e) {
      throw new V1FrameException(V1ErrorCode.INVALID_JSON, "malformed JSON: " + e.getOriginalMessage(), null);
    } catch (IOException e) {
      throw new V1FrameException(V1ErrorCode.INVALID_JSON, "malformed JSON: " + e.getMessage(), null);
    }
    if (rawAckId != null) {
      return new V1Frame(ackId(rawAckId, ackIdIsNumber), rawData, null, rawCMsgId, rawClientId);
    }
    if (rawCMsgId == null) {
      throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "a request needs a numeric cMsgId (an ack needs sMsgId)", null);
    }
    if (rawData == null) {
      throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "a request needs a data field", rawCMsgId);
    }
    return new V1Frame(0, rawData, command, rawCMsgId, rawClientId == null ? "null" : rawClientId);
  }

  private static long ackId(String raw, boolean isNumber) throws V1FrameException {
    long id = 0;
    if (isNumber) {
      try {
        id = Long.parseLong(raw);
      } catch (NumberFormatException e) {
        id = 0;
      }
    }
    if (id <= 0) {
      throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "sMsgId must be a positive integer, got " + raw, null);
    }
    return id;
  }

  private static String idText(JsonParser parser, JsonToken value, String text, int start)
      throws IOException, V1FrameException {
    if (value == JsonToken.VALUE_NULL) {
      return null;
    }
    if (value != JsonToken.VALUE_NUMBER_INT && value != JsonToken.VALUE_NUMBER_FLOAT && value != JsonToken.VALUE_STRING) {
      parser.skipChildren();
      throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "cMsgId must be a number", null);
    }
    return text.substring(start, endAfterSkip(parser, value));
  }

  /** Reads the fields of the {@code data} object, returning its {@code cmd} (as text) if any. */
  private static String scanCommand(JsonParser parser) throws IOException {
    String command = null;
    while (parser.nextToken() == JsonToken.FIELD_NAME) {
      String field = parser.currentName();
      JsonToken value = parser.nextToken();
      if ("cmd".equals(field)) {
        command = value == JsonToken.VALUE_STRING ? parser.getText() : "";
        if (value != JsonToken.VALUE_STRING) {
          parser.skipChildren();
        }
      } else {
        parser.skipChildren();
      }
    }
    return command;
  }

  private static String skip(JsonParser parser, JsonToken value) throws IOException {
    if (value.isStructStart()) {
      parser.skipChildren();
    } else {
      parser.finishToken();
    }
    return null;
  }

  private static int endAfterSkip(JsonParser parser, JsonToken value) throws IOException {
    skip(parser, value);
    return end(parser);
  }

  private static int end(JsonParser parser) {
    return (int) parser.currentLocation().getCharOffset();
  }
}
