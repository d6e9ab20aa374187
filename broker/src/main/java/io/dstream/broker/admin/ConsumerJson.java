package io.dstream.broker.admin;

import io.dstream.broker.stream.StreamError;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The admin API's JSON for JetStream consumers (docs/admin.md, "JetStream consumers"), translated to
 * and from JetStream's own: a consumer's view from its {@code consumer_info_response}, and the
 * {@code ConsumerConfig} of a create request from the admin body, whose values the JetStream rules
 * then check ({@code nats.ConsumerConfig}). Stateless.
 */
final class ConsumerJson {

  /** The admin body's fields and the JetStream {@code ConsumerConfig} field each one is. */
  private static final Map<String, String> CONFIG_FIELDS = Map.of("name", "durable_name",
      "deliverSubject", "deliver_subject", "ackPolicy", "ack_policy", "maxDeliver", "max_deliver",
      "maxAckPending", "max_ack_pending", "deliverPolicy", "deliver_policy", "startSequence", "opt_start_seq",
      "startTime", "opt_start_time", "filterSubject", "filter_subject");
  private static final String ACK_WAIT = "ackWaitMs";

  private ConsumerJson() {
  }

  /** A consumer as the admin API shows it, from its JetStream info. */
  static JsonObject view(JsonObject info) {
    JsonObject config = info.getJsonObject("config");
    JsonObject delivered = info.getJsonObject("delivered");
    JsonObject ackFloor = info.getJsonObject("ack_floor");
    long lastDelivery = epochMs(delivered.getString("last_active"));
    long lastAck = epochMs(ackFloor.getString("last_active"));
    String pauseUntil = config.getString("pause_until");
    return new JsonObject().put("stream", info.getString("stream_name")).put("name", info.getString("name"))
        .put("subject", config.getString("filter_subject"))
        .put("type", config.getString("deliver_subject") == null ? "pull" : "push")
        .put("durable", config.getString("durable_name") != null)
        .put("created", info.getString("created"))
        .put("config", config(config))
        .put("delivered", delivered.getLong("stream_seq"))
        .put("pending", info.getLong("num_pending"))
        .put("ackPending", info.getLong("num_ack_pending"))
        .put("ackFloor", ackFloor.getLong("stream_seq"))
        .put("redelivered", info.getLong("num_redelivered"))
        .put("waiting", info.getLong("num_waiting"))
        .put("lastDeliveryMs", lastDelivery).put("lastAckMs", lastAck)
        .put("lastActivityMs", Math.max(lastDelivery, lastAck))
        .put("paused", info.getBoolean("paused", false))
        .put("pauseUntil", pauseUntil)
        .put("pauseRemainingMs", TimeUnit.NANOSECONDS.toMillis(info.getLong("pause_remaining", 0L)));
  }

  /** The configuration part of a view: the fields a create request takes, with the values in force. */
  private static JsonObject config(JsonObject config) {
    JsonObject shown = new JsonObject().put("deliverSubject", config.getString("deliver_subject"))
        .put("ackPolicy", config.getString("ack_policy"))
        .put(ACK_WAIT, TimeUnit.NANOSECONDS.toMillis(config.getLong("ack_wait")))
        .put("maxDeliver", config.getLong("max_deliver")).put("maxAckPending", config.getLong("max_ack_pending"))
        .put("deliverPolicy", config.getString("deliver_policy"))
        .put("filterSubject", config.getString("filter_subject"));
    if (config.getValue("opt_start_seq") != null) {
      shown.put("startSequence", config.getLong("opt_start_seq"));
    }
    if (config.getValue("opt_start_time") != null) {
      shown.put("startTime", config.getString("opt_start_time"));
    }
    return shown;
  }

  /**
   * The JetStream {@code ConsumerConfig} for an admin create request: the same field names as a view's
   * {@code config} plus {@code name}; an unknown field or a value of the wrong JSON type is refused
   * here, the values themselves by the JetStream rules.
   */
  static JsonObject jetStreamConfig(JsonObject body) {
    JsonObject config = new JsonObject();
    for (Map.Entry<String, Object> field : body) {
      String name = field.getKey();
      Object value = field.getValue();
      if (value == null) {
        continue;
      }
      if (name.equals(ACK_WAIT)) {
        config.put("ack_wait", TimeUnit.MILLISECONDS.toNanos(number(name, value)));
      } else if (!CONFIG_FIELDS.containsKey(name)) {
        throw invalid("unknown field '" + name + "'; a consumer takes " + String.join(", ",
            new TreeSet<>(CONFIG_FIELDS.keySet())) + " and " + ACK_WAIT);
      } else if (name.equals("maxDeliver") || name.equals("maxAckPending") || name.equals("startSequence")) {
        config.put(CONFIG_FIELDS.get(name), number(name, value));
      } else if (value instanceof String text) {
        config.put(CONFIG_FIELDS.get(name), text);
      } else {
        throw invalid(name + " must be a string, got " + value);
      }
    }
    if (config.getString("durable_name", "").isEmpty()) {
      throw invalid("a consumer needs a name");
    }
    return config;
  }

  /**
   * When a pause request ({@code {"until": ISO-8601}} or {@code {"forMs": N}}) ends, in epoch ms at
   * {@code nowMs}; a time in the past resumes, as in JetStream.
   */
  static long pauseUntilMs(JsonObject body, long nowMs) {
    Object until = body.getValue("until");
    Object forMs = body.getValue("forMs");
    if ((until == null) == (forMs == null) || body.size() != 1) {
      throw invalid("a pause takes either {\"until\": ISO-8601 time} or {\"forMs\": milliseconds}");
    }
    if (forMs != null) {
      long ms = number("forMs", forMs);
      if (ms <= 0) {
        throw invalid("forMs must be more than 0, got " + ms);
      }
      return nowMs + ms;
    }
    if (until instanceof String text) {
      try {
        return Math.max(0, Instant.parse(text).toEpochMilli());
      } catch (DateTimeParseException e) {
        // fall through to the error below
      }
    }
    throw invalid("until must be an ISO-8601 time such as 2026-12-01T10:00:00Z, got " + until);
  }

  private static long number(String name, Object value) {
    if (value instanceof Number number && number.doubleValue() == number.longValue()) {
      return number.longValue();
    }
    throw invalid(name + " must be a whole number, got " + value);
  }

  private static long epochMs(String time) {
    return time == null ? 0 : Instant.parse(time).toEpochMilli();
  }

  private static StreamError invalid(String message) {
    return StreamError.invalid("invalid_argument", message);
  }
}
