package io.dstream.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * How command-line text becomes message data: text that looks like JSON (it starts with
 * {@code {}, {@code [} or {@code "}) must be JSON; a number, {@code true}, {@code false} or
 * {@code null} is that value; anything else is a string. A typo in JSON is an error naming its
 * column, never a message silently stored as a string.
 */
final class JsonArgs {

  private JsonArgs() {
  }

  /** @return the JSON value of {@code text}, or {@code text} itself when it is plain text (or {@code asString}) */
  static Object data(String text, boolean asString) {
    if (asString) {
      return text;
    }
    String trimmed = text.strip();
    boolean looksLikeJson = trimmed.startsWith("{") || trimmed.startsWith("[") || trimmed.startsWith("\"");
    try {
      Object value = Json.decodeValue(text);
      return value == null && !trimmed.equals("null") ? text : value;
    } catch (DecodeException e) {
      if (looksLikeJson) {
        throw new IllegalArgumentException("the message looks like JSON but " + problem(e)
            + "; fix it, or add --string to publish the text as it is", e);
      }
      return text;
    }
  }

  /** @return the JSON object in {@code text} */
  static JsonObject object(String text, String what) {
    Object value;
    try {
      value = Json.decodeValue(text);
    } catch (DecodeException e) {
      throw new IllegalArgumentException(what + " must be a JSON object, but " + problem(e), e);
    }
    if (!(value instanceof JsonObject object)) {
      throw new IllegalArgumentException(what + " must be a JSON object {...}, got " + (value == null ? "null"
          : value.getClass().getSimpleName().replace("Json", "").toLowerCase(Locale.ROOT)));
    }
    return object;
  }

  /** Jackson's reason and column, in one line (its own message adds a second line with a redacted source). */
  private static String problem(DecodeException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof JsonProcessingException parse && parse.getLocation() != null) {
        // Jackson may name where the object began, with the same redacted source: the column says enough.
        String reason = parse.getOriginalMessage().split("\\R", 2)[0].replaceAll(" \\(start marker at .*$", "");
        return "is not valid at column " + parse.getLocation().getColumnNr() + ": " + reason;
      }
    }
    return "is not valid: " + String.valueOf(e.getMessage()).split("\\R", 2)[0];
  }

  static String readStdin() throws IOException {
    return new String(System.in.readAllBytes(), StandardCharsets.UTF_8);
  }

  /** @return any JSON value as JSON text ({@code null} as {@code null}) */
  static String json(Object value) {
    return Json.encode(value);
  }

  /** @return data as text: strings as they are, everything else as JSON */
  static String text(Object data) {
    return data instanceof String string ? string : Json.encode(data);
  }
}
