package io.dstream.cli;

import io.nats.client.Message;
import io.nats.client.impl.Headers;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * How the NATS commands read headers from the command line and show messages: {@code SUBJECT<TAB>DATA}, the data
 * alone, or one JSON object per message. A payload is shown as UTF-8 text; in JSON its {@code "data"} is the
 * payload read the way {@code pub} reads DATA (JSON text as that value, any other text as a string).
 */
final class NatsMessages {

  private NatsMessages() {
  }

  /** @return the headers of {@code -H 'Name: value'} options, or null for none */
  static Headers headers(List<String> specs) {
    if (specs == null || specs.isEmpty()) {
      return null;
    }
    Headers headers = new Headers();
    for (String spec : specs) {
      int colon = spec.indexOf(':');
      if (colon < 1) {
        throw new IllegalArgumentException("a header is 'Name: value', got '" + spec + "'");
      }
      // jnats checks the name's and value's characters and fails with a message naming the header.
      headers.add(spec.substring(0, colon).strip(), spec.substring(colon + 1).strip());
    }
    return headers;
  }

  /** @return the payload as UTF-8 text */
  static String text(Message message) {
    return message.getData() == null ? "" : new String(message.getData(), StandardCharsets.UTF_8);
  }

  /** @return one line: the data alone with {@code raw}, the JSON object with {@code json}, else SUBJECT TAB DATA */
  static String line(Message message, boolean raw, boolean json) {
    return json ? json(message).encode() : raw ? text(message) : message.getSubject() + "\t" + text(message);
  }

  /** @return {@code {"subject":..,"data":..,"headers":{"Name":["value",..]}}} */
  static JsonObject json(Message message) {
    JsonObject headers = new JsonObject();
    if (message.hasHeaders()) {
      message.getHeaders().entrySet().forEach(entry -> headers.put(entry.getKey(), new JsonArray(entry.getValue())));
    }
    return new JsonObject().put("subject", message.getSubject()).put("data", data(text(message)))
        .put("headers", headers);
  }

  private static Object data(String text) {
    try {
      Object value = Json.decodeValue(text);
      return value == null && !text.strip().equals("null") ? text : value;
    } catch (DecodeException e) {
      return text;
    }
  }
}
