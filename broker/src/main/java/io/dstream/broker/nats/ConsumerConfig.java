package io.dstream.broker.nats;

import io.dstream.broker.stream.DeliveryPolicy;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.pattern.TokenPattern;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * A JetStream consumer's configuration as a client sends it ({@code ConsumerConfig} of the
 * JetStream API, durations in nanoseconds), validated and with JetStream's defaults: what we
 * support of it is here, everything else is refused by name or kept only to be shown back.
 *
 * @param name          the consumer's name
 * @param filter        the subjects it follows: its stream's subject, or (a wildcard stream) a pattern inside it ({@code durable_name}, {@code name} or the API subject's)
 * @param durable       whether it outlives its creator's connection and keeps its state across restarts
 * @param deliverSubject push consumers: where messages go; null for a pull consumer
 * @param start         where delivery starts: a sequence, or {@code StreamActor.SUBSCRIBE_NEW}/{@code SUBSCRIBE_LAST}
 * @param startTimeMs   for {@code by_start_time}: the first publish time wanted; else -1
 * @param policy        ack window, wait, max deliver and mode
 * @param heartbeatMs   idle heartbeat interval of a push consumer; 0 for none
 * @param pauseUntilMs  {@code pause_until} (NATS 2.11): created paused until then (epoch ms); 0 for not paused
 * @param json          the configuration with our defaults, as info answers show it, without
 *                      {@code pause_until}: the consumer's current pause is added to it ({@link JsConsumer#configJson})
 */
record ConsumerConfig(String name, String filter, boolean durable, String deliverSubject, long start, long startTimeMs,
                      DeliveryPolicy policy, long heartbeatMs, long pauseUntilMs, JsonObject json) {

  static final long DEFAULT_ACK_WAIT_NANOS = TimeUnit.SECONDS.toNanos(30);
  static final int DEFAULT_MAX_ACK_PENDING = 1000;
  /** A consumer's ack window is at most this, whatever it asks ({@code max_ack_pending: -1} included). */
  static final int MAX_ACK_PENDING_LIMIT = 100_000;

  /** Parses {@code config} for a consumer of {@code stream}; {@code apiName} is the name in the API subject, or null. */
  static ConsumerConfig parse(JsonObject config, String apiName, StreamDeclaration stream) {
    String subject = stream.subject();
    String durableName = blankToNull(config.getString("durable_name"));
    String name = durableName != null ? durableName : blankToNull(config.getString("name"));
    if (name == null) {
      name = apiName;
    }
    if (apiName != null && name != null && !apiName.equals(name)) {
      throw invalid("consumer name in subject does not match durable name in request");
    }
    boolean durable = durableName != null;
    if (name == null) {
      name = NatsIds.next();
    }
    if (name.isEmpty() || name.contains(".") || name.contains("*") || name.contains(">")) {
      throw invalid("invalid consumer name '" + name + "'");
    }
    String filter = filter(config, stream);
    String ackPolicy = config.getString("ack_policy", "explicit").toLowerCase(Locale.ROOT);
    DeliveryPolicy.AckMode mode = switch (ackPolicy) {
      case "explicit" -> DeliveryPolicy.AckMode.EXPLICIT;
      case "all" -> DeliveryPolicy.AckMode.ALL;
      case "none" -> DeliveryPolicy.AckMode.NONE;
      default -> throw invalid("unknown ack_policy '" + ackPolicy + "'");
    };
    if (stream.workQueue() && mode != DeliveryPolicy.AckMode.EXPLICIT) {
      throw StreamError.invalid("wq_requires_explicit_ack", "workqueue stream requires explicit ack");
    }
    long ackWaitNanos = positiveOr(config.getLong("ack_wait"), DEFAULT_ACK_WAIT_NANOS);
    long maxDeliver = config.getLong("max_deliver", -1L);
    long maxAckPending = config.getLong("max_ack_pending", (long) DEFAULT_MAX_ACK_PENDING);
    int window = maxAckPending <= 0 || maxAckPending > MAX_ACK_PENDING_LIMIT ? MAX_ACK_PENDING_LIMIT : (int) maxAckPending;
    DeliveryPolicy policy = new DeliveryPolicy(window, Math.max(1, TimeUnit.NANOSECONDS.toMillis(ackWaitNanos)),
        maxDeliver <= 0 || maxDeliver > Integer.MAX_VALUE ? Integer.MAX_VALUE : (int) maxDeliver, mode,
        stream.workQueue());
    String deliverPolicy = config.getString("deliver_policy", "all").toLowerCase(Locale.ROOT);
    if (stream.workQueue() && !deliverPolicy.equals("all")) {
      throw StreamError.invalid("wq_not_deliver_all", "consumer must be deliver all on workqueue stream");
    }
    long start = 1;
    long startTimeMs = -1;
    switch (deliverPolicy) {
      case "all" -> start = 1;
      case "last", "last_per_subject" -> start = StreamActor.SUBSCRIBE_LAST;
      case "new" -> start = StreamActor.SUBSCRIBE_NEW;
      case "by_start_sequence" -> {
        start = config.getLong("opt_start_seq", 0L);
        if (start <= 0) {
          throw invalid("deliver_policy by_start_sequence needs opt_start_seq > 0");
        }
        if (stream.wildcard()) {
          throw invalid("durable-stream: a wildcard stream has no stream-wide sequence (each subject has its own);"
              + " use deliver_policy all, new, last, last_per_subject or by_start_time");
        }
      }
      case "by_start_time" -> {
        String time = config.getString("opt_start_time");
        try {
          startTimeMs = Instant.parse(time).toEpochMilli();
        } catch (DateTimeParseException | NullPointerException e) {
          throw invalid("deliver_policy by_start_time needs opt_start_time as an RFC 3339 time");
        }
      }
      default -> throw invalid("unknown deliver_policy '" + deliverPolicy + "'");
    }
    String deliverSubject = config.getString("deliver_subject");
    if (deliverSubject != null && deliverSubject.isEmpty()) {
      deliverSubject = null;
    }
    long heartbeatNanos = config.getLong("idle_heartbeat", 0L);
    long pauseUntilMs = pauseUntilMs(config.getValue("pause_until"));
    JsonObject shown = config.copy().put("ack_policy", ackPolicy).put("deliver_policy", deliverPolicy)
        .put("ack_wait", ackWaitNanos).put("max_deliver", maxDeliver).put("max_ack_pending", window)
        .put("replay_policy", "instant").put("num_replicas", 0).put("filter_subject", filter);
    shown.remove("filter_subjects");
    if (durable) {
      shown.put("durable_name", name);
    }
    shown.put("name", name);
    shown.remove("pause_until");
    return new ConsumerConfig(name, filter, durable, deliverSubject, start, startTimeMs, policy,
        TimeUnit.NANOSECONDS.toMillis(Math.max(0, heartbeatNanos)), pauseUntilMs, shown);
  }

  /**
   * A {@code pause_until} as clients send it (config or {@code CONSUMER.PAUSE}): an RFC 3339 time, or
   * absent, empty or Go's zero time for none; 0 for none, else epoch ms (a past time is as good as none).
   */
  static long pauseUntilMs(Object value) {
    if (value == null || "".equals(value)) {
      return 0;
    }
    if (!(value instanceof String text)) {
      throw invalid("pause_until must be an RFC 3339 time, got " + value);
    }
    try {
      return Math.max(0, Instant.parse(text).toEpochMilli());
    } catch (DateTimeParseException e) {
      throw invalid("pause_until must be an RFC 3339 time, got '" + text + "'");
    }
  }

  /**
   * The subjects it follows: a literal stream's one subject; on a wildcard stream the stream's
   * pattern or a narrower {@code filter_subject} (one entry of {@code filter_subjects} counts as it).
   */
  private static String filter(JsonObject config, StreamDeclaration stream) {
    String subject = stream.subject();
    String filter = blankToNull(config.getString("filter_subject"));
    JsonArray filters = config.getJsonArray("filter_subjects");
    if (filters != null && filters.size() > 1) {
      throw invalid("durable-stream: a consumer follows one subject or one pattern; filter_subjects with several"
          + " entries is not supported");
    }
    if (filter == null && filters != null && filters.size() == 1 && filters.getValue(0) instanceof String only) {
      filter = blankToNull(only);
    }
    if (filter == null || filter.equals(subject)) {
      return subject;
    }
    if (!stream.wildcard()) {
      throw invalid("durable-stream: a stream is one subject, so a consumer's filter_subject can only be '"
          + subject + "'");
    }
    try {
      TokenPattern.subjects(filter);
    } catch (IllegalArgumentException e) {
      throw invalid("invalid filter_subject '" + filter + "'");
    }
    if (!SubjectPatterns.covers(subject, filter)) {
      throw invalid("filter_subject '" + filter + "' is not inside the stream's subjects '" + subject + "'");
    }
    return filter;
  }

  /** Clients send {@code ""} for a name they leave to the server. */
  private static String blankToNull(String value) {
    return value == null || value.isEmpty() ? null : value;
  }

  private static long positiveOr(Long value, long otherwise) {
    return value == null || value <= 0 ? otherwise : value;
  }

  private static StreamError invalid(String message) {
    return StreamError.invalid("invalid_consumer", message);
  }
}
