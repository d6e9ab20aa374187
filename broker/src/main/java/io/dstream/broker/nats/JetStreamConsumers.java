package io.dstream.broker.nats;

import io.dstream.broker.stream.ConsumerState;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamInfo;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * JetStream consumers: creation, info, listing and deletion through the API, pull requests, acks,
 * and the durable ones' state. A consumer is a subscriber of its stream's subject ({@link JsConsumer})
 * and holds that subject's actor while it exists.
 *
 * <p>Durable consumers' state (configuration, next sequence, every delivery not yet acknowledged
 * with its delivery count) is saved, for each stream, as the last message of the system subject
 * {@code $DS.JS.C.<stream>}: once when a consumer is created or deleted and then at most every
 * {@link #SAVE_INTERVAL_MS} while it changes. So it is in H2 like any message (and checkpointed to
 * the bucket), and after a crash a consumer resumes from its last save: deliveries acknowledged
 * after it are sent again (at least once). Ephemeral consumers are not saved and go with the
 * connection that created them.
 *
 * <p>Threading: the map is concurrent (acks look consumers up on every connection's context);
 * saving runs on the manager's context.
 */
final class JetStreamConsumers {

  static final String ACK_PREFIX = "$JS.ACK.";
  static final long SAVE_INTERVAL_MS = 1_000;
  /** An ephemeral consumer nobody listens to (push) or pulls from (pull) this long is deleted, as JetStream's default. */
  static final long INACTIVE_THRESHOLD_MS = 5_000;
  private static final String STATE_PREFIX = "$DS.JS.C.";

  private final NatsServer server;
  private final Map<String, JsConsumer> consumers = new ConcurrentHashMap<>();
  private Vertx vertx;
  private Context context;
  private long saveTimer = -1;

  JetStreamConsumers(NatsServer server) {
    this.server = server;
  }

  void start(Vertx owner) {
    this.vertx = owner;
    this.context = owner.getOrCreateContext();
    saveTimer = owner.setPeriodic(SAVE_INTERVAL_MS, id -> tick());
  }

  /** Stops the saver after a last save of what changed, so a clean stop resumes exactly. */
  Future<Void> stop() {
    if (saveTimer >= 0) {
      vertx.cancelTimer(saveTimer);
    }
    return saveChanged();
  }

  /**
   * Saves what changed; wakes push consumers whose deliver subject has listeners again (a durable
   * consumer bound after it was created); deletes ephemeral consumers inactive for
   * {@link #INACTIVE_THRESHOLD_MS}.
   */
  private void tick() {
    saveChanged();
    long now = System.currentTimeMillis();
    for (JsConsumer consumer : List.copyOf(consumers.values())) {
      if (consumer.actor() == null) {
        continue;
      }
      boolean active = consumer.active();
      if (active && consumer.config.deliverSubject() != null) {
        consumer.actor().resume(consumer);
      }
      if (!consumer.config.durable() && consumer.inactiveFor(active, now) >= INACTIVE_THRESHOLD_MS) {
        delete(consumer);
      }
    }
  }

  private static String key(String stream, String name) {
    return stream + "\u0000" + name;
  }

  // ---- API ------------------------------------------------------------------------------------

  /** {@code CONSUMER.CREATE.<stream>[.<name>[.<filter>]]} and {@code CONSUMER.DURABLE.CREATE.<stream>.<name>}. */
  Future<String> create(NatsConnection connection, String stream, String subject, String apiName, JsonObject request,
                        boolean durableApi) {
    JsonObject json = request.getJsonObject("config", new JsonObject());
    if (durableApi && json.getString("durable_name") == null) {
      json = json.copy().put("durable_name", apiName);
    }
    ConsumerConfig config = ConsumerConfig.parse(json, apiName, subject);
    if (!connection.permissions().maySubscribe(subject)) {
      throw StreamError.invalid("forbidden", "this credential may not read '" + subject + "'");
    }
    JsConsumer existing = consumers.get(key(stream, config.name()));
    if (existing != null) {
      return info(existing);
    }
    return register(stream, subject, config, config.durable() ? null : connection, connection.context)
        .compose(this::info);
  }

  /**
   * Creates a durable consumer for an operator (the admin API, through {@link ConsumerOperations}):
   * the same configuration rules as {@link #create}, without a connection; one that exists is a conflict.
   */
  Future<JsConsumer> createDurable(String stream, String subject, JsonObject json, Context caller) {
    ConsumerConfig config = ConsumerConfig.parse(json, null, subject);
    if (!config.durable()) {
      throw StreamError.invalid("invalid_consumer", "a consumer created by an operator is durable: give it a name");
    }
    if (consumers.containsKey(key(stream, config.name()))) {
      throw StreamError.conflict("consumer_exists", "consumer '" + config.name()
          + "' already exists on stream '" + stream + "'");
    }
    return register(stream, subject, config, null, caller);
  }

  private Future<JsConsumer> register(String stream, String subject, ConsumerConfig config, NatsConnection owner,
                                      Context caller) {
    JsConsumer consumer = new JsConsumer(stream, subject, config, Instant.now().toString(), owner, server.delivery,
        vertx);
    consumers.put(key(stream, config.name()), consumer);
    return subscribe(consumer, config.start(), List.of(), caller)
        .compose(v -> config.durable() ? save(stream) : Future.succeededFuture())
        .map(v -> consumer)
        .onFailure(failure -> consumers.remove(key(stream, config.name()), consumer));
  }

  /**
   * {@code CONSUMER.PAUSE}: pauses deliveries until {@code untilMs} (epoch ms), or resumes them for 0
   * or a past time; a durable consumer's pause is saved at once, so it survives a restart.
   */
  Future<Void> pause(JsConsumer consumer, long untilMs) {
    consumer.pauseUntil(untilMs);
    return consumer.config.durable() ? save(consumer.stream) : Future.succeededFuture();
  }

  /** Attaches the consumer to its subject's actor and subscribes it where it starts (or resumes). */
  private Future<Void> subscribe(JsConsumer consumer, long start, List<long[]> unacknowledged, Context caller) {
    return server.registry.attach(consumer.subject, caller).compose(actor -> {
      consumer.attached(actor);
      Promise<Long> subscribed = Promise.promise();
      if (consumer.config.startTimeMs() >= 0 && unacknowledged.isEmpty() && start <= 0) {
        actor.subscribeFromTime(consumer, consumer.config.startTimeMs(), (last, failure) -> complete(subscribed, last,
            failure));
      } else {
        actor.subscribe(consumer, start, unacknowledged, (last, failure) -> complete(subscribed, last, failure));
      }
      return subscribed.future().mapEmpty();
    });
  }

  private static void complete(Promise<Long> promise, Long value, Throwable failure) {
    if (failure != null) {
      promise.fail(failure);
    } else {
      promise.complete(value);
    }
  }

  JsConsumer find(String stream, String name) {
    JsConsumer consumer = consumers.get(key(stream, name));
    if (consumer == null) {
      throw StreamError.notFound("consumer_not_found", "consumer not found");
    }
    return consumer;
  }

  Future<String> info(JsConsumer consumer) {
    return state(consumer).map(state -> consumerInfo(consumer, state).encode());
  }

  /**
   * The consumer's state and waiting pull requests, read on its actor's context; a consumer still
   * being created (no actor yet) has delivered nothing.
   */
  private Future<JsonObject> state(JsConsumer consumer) {
    if (consumer.actor() == null) {
      return Future.succeededFuture(stateJson(null).put("num_waiting", 0));
    }
    Promise<JsonObject> read = Promise.promise();
    consumer.actor().consumerState(consumer, (state, failure) -> {
      if (failure != null) {
        read.fail(failure);
      } else {
        read.complete(stateJson(state).put("num_waiting", consumer.waiting()));
      }
    });
    return read.future();
  }

  private static JsonObject stateJson(ConsumerState state) {
    if (state == null) {
      return new JsonObject().put("next", 1L).put("unacked", new JsonArray()).put("pending", 0).put("redelivered", 0L)
          .put("lag", 0L);
    }
    JsonArray unacked = new JsonArray();
    state.unacknowledged().forEach(pair -> unacked.add(new JsonArray().add(pair[0]).add(pair[1])));
    return new JsonObject().put("next", state.nextSequence()).put("unacked", unacked).put("pending", state.pending())
        .put("redelivered", state.redelivered()).put("lag", state.lag())
        .put("floor", state.firstUnacknowledged() - 1);
  }

  private static JsonObject consumerInfo(JsConsumer consumer, JsonObject state) {
    long delivered = state.getLong("next") - 1;
    long floor = state.getLong("floor", delivered);
    long now = System.currentTimeMillis();
    long pausedUntil = consumer.pausedUntil(now);
    JsonObject info = new JsonObject().put("type", "io.nats.jetstream.api.v1.consumer_info_response")
        .put("stream_name", consumer.stream).put("name", consumer.name()).put("created", consumer.created)
        .put("config", consumer.configJson())
        .put("delivered", sequenceInfo(delivered, consumer.lastDeliveryMs()))
        .put("ack_floor", sequenceInfo(floor, consumer.lastAckMs()))
        .put("num_ack_pending", state.getJsonArray("unacked").size())
        .put("num_redelivered", state.getLong("redelivered")).put("num_waiting", state.getInteger("num_waiting", 0))
        .put("num_pending", state.getLong("lag")).put("ts", Instant.ofEpochMilli(now).toString());
    if (pausedUntil > 0) {
      info.put("paused", true).put("pause_remaining", TimeUnit.MILLISECONDS.toNanos(pausedUntil - now));
    }
    return info;
  }

  /** JetStream's {@code SequenceInfo}: {@code last_active} only once there was some. */
  private static JsonObject sequenceInfo(long sequence, long lastActiveMs) {
    JsonObject info = new JsonObject().put("consumer_seq", sequence).put("stream_seq", sequence);
    return lastActiveMs == 0 ? info : info.put("last_active", Instant.ofEpochMilli(lastActiveMs).toString());
  }

  List<String> names(String stream) {
    List<String> names = new ArrayList<>();
    new TreeMap<>(consumers).values().forEach(c -> {
      if (c.stream.equals(stream)) {
        names.add(c.name());
      }
    });
    return names;
  }

  Future<List<JsonObject>> list(String stream) {
    List<Future<JsonObject>> infos = new ArrayList<>();
    new TreeMap<>(consumers).values().forEach(c -> {
      if (c.stream.equals(stream)) {
        infos.add(state(c).map(state -> consumerInfo(c, state)));
      }
    });
    return Future.all(infos).map(all -> infos.stream().map(Future::result).toList());
  }

  /** Deletes a consumer: it stops, lets go of its actor and (durable) leaves the saved state. */
  Future<Void> delete(JsConsumer consumer) {
    if (!consumers.remove(key(consumer.stream, consumer.name()), consumer)) {
      return Future.succeededFuture();
    }
    consumer.deleted();
    StreamActor actor = consumer.actor();
    if (actor != null) {
      actor.detach(consumer);
    }
    return consumer.config.durable() ? save(consumer.stream) : Future.succeededFuture();
  }

  /** The stream was deleted: so are its consumers, and their saved state. */
  Future<Void> streamDeleted(String stream) {
    List<Future<Void>> deleted = new ArrayList<>();
    List.copyOf(consumers.values()).forEach(c -> {
      if (c.stream.equals(stream)) {
        deleted.add(delete(c));
      }
    });
    return Future.all(deleted).compose(v -> save(stream));
  }

  /** The connection closed: the ephemeral consumers it created go with it. */
  void connectionClosed(NatsConnection connection) {
    List.copyOf(consumers.values()).forEach(c -> {
      if (c.owner == connection) {
        delete(c);
      }
    });
  }

  /** {@code CONSUMER.MSG.NEXT.<stream>.<name>}: a pull request, answered with messages to {@code reply}. */
  void next(JsConsumer consumer, String reply, byte[] payload) {
    int batch = 1;
    boolean noWait = false;
    long expiresMs = 0;
    long heartbeatMs = 0;
    String text = new String(payload, StandardCharsets.UTF_8).trim();
    if (!text.isEmpty()) {
      if (text.startsWith("{")) {
        try {
          JsonObject request = new JsonObject(text);
          batch = request.getInteger("batch", 1);
          noWait = request.getBoolean("no_wait", false);
          expiresMs = request.getLong("expires", 0L) / 1_000_000;
          heartbeatMs = request.getLong("idle_heartbeat", 0L) / 1_000_000;
        } catch (DecodeException | ClassCastException e) {
          return;
        }
      } else {
        try {
          batch = Integer.parseInt(text);
        } catch (NumberFormatException e) {
          return;
        }
      }
    }
    int wanted = batch;
    boolean once = noWait;
    long expires = expiresMs;
    long heartbeat = heartbeatMs;
    consumer.actor().execute(() -> consumer.pull(reply, wanted, once, expires, heartbeat));
  }

  // ---- acks -----------------------------------------------------------------------------------

  /**
   * An ack subject ({@code $JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<delivery id>.<ts>.<pending>})
   * with its payload: {@code +ACK} (or nothing), {@code -NAK} with an optional delay, {@code +WPI},
   * {@code +TERM}, {@code +NXT}. Plain acks join the connection's {@link AckBatch}; with a reply
   * (a synchronous ack) the answer follows the ack on the actor.
   */
  void ack(AckBatch batch, String subject, String reply, byte[] payload) {
    // Cut in place (a split into nine strings was a tenth of a replay): stream, consumer, then the
    // delivery id two tokens later.
    int streamEnd = subject.indexOf('.', ACK_PREFIX.length());
    int consumerEnd = streamEnd < 0 ? -1 : subject.indexOf('.', streamEnd + 1);
    int deliveredEnd = consumerEnd < 0 ? -1 : subject.indexOf('.', consumerEnd + 1);
    int sequenceEnd = deliveredEnd < 0 ? -1 : subject.indexOf('.', deliveredEnd + 1);
    int idEnd = sequenceEnd < 0 ? -1 : subject.indexOf('.', sequenceEnd + 1);
    if (idEnd < 0) {
      return;
    }
    JsConsumer consumer = consumers.get(key(subject.substring(ACK_PREFIX.length(), streamEnd),
        subject.substring(streamEnd + 1, consumerEnd)));
    if (consumer == null || consumer.actor() == null) {
      return;
    }
    long deliveryId;
    try {
      deliveryId = Long.parseLong(subject, sequenceEnd + 1, idEnd, 10);
    } catch (NumberFormatException e) {
      return;
    }
    String kind = new String(payload, StandardCharsets.US_ASCII).trim();
    StreamActor actor = consumer.actor();
    consumer.changed();
    consumer.acknowledged();
    if (kind.isEmpty() || kind.startsWith("+ACK") || kind.startsWith("+NXT")) {
      batch.add(consumer, deliveryId);
      if (reply == null) {
        return;
      }
      batch.flush();
    } else if (kind.startsWith("-NAK")) {
      actor.nak(consumer, deliveryId, nakDelayMs(kind.substring(4).trim()));
    } else if (kind.startsWith("+WPI")) {
      actor.progress(consumer, deliveryId);
    } else if (kind.startsWith("+TERM")) {
      actor.terminate(consumer, deliveryId);
    }
    if (reply != null) {
      actor.execute(() -> server.delivery.route(reply, null, null, new byte[0]));
    }
  }

  private static long nakDelayMs(String options) {
    if (options.startsWith("{")) {
      try {
        return new JsonObject(options).getLong("delay", 0L) / 1_000_000;
      } catch (DecodeException | ClassCastException e) {
        return 0;
      }
    }
    return 0;
  }

  // ---- saved state ----------------------------------------------------------------------------

  private Future<Void> saveChanged() {
    List<String> streams = new ArrayList<>();
    consumers.values().forEach(c -> {
      if (c.config.durable() && c.dirty() && !streams.contains(c.stream)) {
        streams.add(c.stream);
      }
    });
    List<Future<Void>> saved = new ArrayList<>();
    streams.forEach(stream -> saved.add(save(stream)));
    return Future.join(saved).mapEmpty();
  }

  /** Writes the state of every durable consumer of {@code stream} as the last message of its state subject. */
  private Future<Void> save(String stream) {
    List<JsConsumer> durable = new ArrayList<>();
    consumers.values().forEach(c -> {
      // One still being created is saved by its creation, once it is subscribed where it starts.
      if (c.stream.equals(stream) && c.config.durable() && c.actor() != null) {
        durable.add(c);
      }
    });
    List<Future<JsonObject>> states = new ArrayList<>();
    for (JsConsumer consumer : durable) {
      consumer.saved();
      states.add(state(consumer).map(state -> new JsonObject().put("name", consumer.name())
          .put("config", consumer.configJson()).put("created", consumer.created).put("state", state)));
    }
    return Future.all(states).compose(all -> {
      JsonArray saved = new JsonArray();
      states.forEach(state -> saved.add(state.result()));
      byte[] snapshot = new JsonObject().put("consumers", saved).encode().getBytes(StandardCharsets.UTF_8);
      return server.registry.call(STATE_PREFIX + stream, context, tx -> {
        long sequence = tx.append(snapshot);
        tx.deleteUpTo(sequence - 1);
        return sequence;
      });
    }).onFailure(failure -> durable.forEach(JsConsumer::changed)).mapEmpty();
  }

  /** Brings back the durable consumers of {@code stream} and {@code subject} from their last save, if any. */
  Future<Void> restore(String stream, String subject) {
    String stateSubject = STATE_PREFIX + stream;
    return server.registry.<StreamInfo>ask(stateSubject, context, StreamActor::info).compose(info -> {
      if (info.lastSequence() == 0) {
        return Future.succeededFuture();
      }
      return server.registry.<List<Published>>ask(stateSubject, context,
          (actor, reply) -> actor.readPage(info.lastSequence(), 1, Long.MAX_VALUE, reply)).compose(page -> {
            if (page.isEmpty()) {
              return Future.succeededFuture();
            }
            JsonArray saved = new JsonObject(new String(page.get(0).stored(), StandardCharsets.UTF_8))
                .getJsonArray("consumers");
            List<Future<Void>> resumed = new ArrayList<>();
            for (int i = 0; i < saved.size(); i++) {
              resumed.add(resume(stream, subject, saved.getJsonObject(i)));
            }
            return Future.all(resumed).mapEmpty();
          });
    });
  }

  private Future<Void> resume(String stream, String subject, JsonObject saved) {
    ConsumerConfig config = ConsumerConfig.parse(saved.getJsonObject("config"), saved.getString("name"), subject);
    JsonObject state = saved.getJsonObject("state");
    List<long[]> unacked = new ArrayList<>();
    JsonArray pairs = state.getJsonArray("unacked", new JsonArray());
    for (int i = 0; i < pairs.size(); i++) {
      unacked.add(new long[] {pairs.getJsonArray(i).getLong(0), pairs.getJsonArray(i).getLong(1)});
    }
    JsConsumer consumer = new JsConsumer(stream, subject, config, saved.getString("created"), null, server.delivery,
        vertx);
    consumers.put(key(stream, config.name()), consumer);
    return subscribe(consumer, state.getLong("next", 1L), unacked, context);
  }
}
