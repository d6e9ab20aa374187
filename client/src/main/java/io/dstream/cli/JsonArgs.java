package io.dstream.cli;

import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.charset.StandardCharsets;

/** How command-line text becomes message data: JSON if it parses as JSON, else a string. */
final class JsonArgs {

  private JsonArgs() {
  }

  /** @return the JSON value of {@code text}, or {@code text} itself when it is not JSON (or {@code asString}) */
  static Object data(String text, boolean asString) {
    if (asString) {
      return text;
    }
    try {
      Object value = Json.decodeValue(text);
      return value == null && !text.trim().equals("null") ? text : value;
    } catch (DecodeException e) {
      return text;
    }
  }

  /** @return the JSON object in {@code text} */
  static JsonObject object(String text, String what) {
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw new IllegalArgumentException(what + " must be a JSON object: " + e.getMessage(), e);
    }
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
