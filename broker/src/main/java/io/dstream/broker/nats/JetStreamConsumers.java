package io.dstream.broker.nats;

import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
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
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * JetStream consumers: creation, info, listing and deletion through the API, pull requests, acks,
 * and the durable ones' state. A consumer ({@link JsConsumer}) follows its stream's subject through
 * a subscriber of that subject's actor, or, on a wildcard stream, every matching subject through
 * one subscriber each ({@link WildcardFollowers}), which hear of subjects created later through
 * {@link #follows}/{@link #tapped} (the broker-wide tap).
 *
 * <p>On a work-queue stream only one consumer may take each subject's messages (JetStream's
 * 10099/10100 refusals) and its policy removes what it acknowledged (see
 * {@link io.dstream.broker.stream.Deliveries#removableUpTo}).
 *
 * <p>Durable consumers' state (configuration, next sequence, every delivery not yet acknowledged
 * with its delivery count; per subject for a wildcard stream) is saved, for each stream, as the last message of the system subject
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
  /** Consumers of wildcard streams, for the tap: asked on every append, so a copy-on-write array. */
  private final List<JsConsumer> wildcards = new CopyOnWriteArrayList<>();
  /** Cluster mode: per stream, the leadership term its consumers were brought back under here. */
  private final Map<String, Adoption> adoptions = new ConcurrentHashMap<>();
  private Vertx vertx;
  private Context context;
  private long saveTimer = -1;

  private record Adoption(long term, Future<Void> done) {
  }

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
   * Saves what changed; lets wildcard consumers' settled subjects go idle; wakes push consumers
   * whose deliver subject has listeners again (a durable consumer bound after it was created);
   * deletes ephemeral consumers inactive for
   * {@link #INACTIVE_THRESHOLD_MS}.
   */
  private void tick() {
    if (server.calls.clustered()) {
      followLeadership();
    }
    saveChanged();
    long now = System.currentTimeMillis();
    for (JsConsumer consumer : List.copyOf(consumers.values())) {
      if (consumer.wildcard() != null) {
        consumer.wildcard().tick();
      }
      boolean active = consumer.active();
      if (active && consumer.push()) {
        consumer.wake();
      }
      if (!consumer.config.durable() && consumer.inactiveFor(active, now) >= INACTIVE_THRESHOLD_MS) {
        delete(consumer);
      }
    }
  }

  /**
   * Cluster mode: a stream's consumers run on the node leading its subject. Those of a subject this
   * node no longer leads stop here (without a save: the new leader goes on from the last one); those
   * of one it has come to lead come back from their last save, so push consumers deliver again
   * without waiting for a request.
   */
  private void followLeadership() {
    for (JsConsumer consumer : List.copyOf(consumers.values())) {
      StreamDeclaration declared = server.jetStream.declaration(consumer.stream);
      if (declared != null && !server.calls.servesHere(declared.subject())) {
        release(consumer);
        adoptions.remove(consumer.stream);
      }
    }
    for (StreamDeclaration declared : server.jetStream.declarations()) {
      if (server.calls.onePartition(declared.subject()) && server.calls.here(declared.subject())) {
        adopted(declared);
      }
    }
  }

  /**
   * Completes once the consumers of {@code stream} run here under the current leadership of its
   * subject: at once on a single node (they came back at start), or once this node, newly leading
   * the subject, brought them back from their last save. Synchronized: connections, the calls of
   * other nodes and the tick ask at once, and the consumers must come back once.
   */
  synchronized Future<Void> adopted(StreamDeclaration stream) {
    long term = server.calls.term(stream.subject());
    if (!server.calls.clustered() || !server.calls.onePartition(stream.subject()) || term < 0) {
      return Future.succeededFuture();
    }
    Adoption adoption = adoptions.get(stream.name());
    if (adoption != null && adoption.term() == term && !adoption.done().failed()) {
      return adoption.done();
    }
    // Left from an earlier leadership of this node: the saved state is newer.
    List.copyOf(consumers.values()).forEach(c -> {
      if (c.stream.equals(stream.name())) {
        release(c);
      }
    });
    Future<Void> done = restore(stream);
    adoptions.put(stream.name(), new Adoption(term, done));
    return done;
  }

  private static String key(String stream, String name) {
    return stream + "\u0000" + name;
  }

  // ---- API ------------------------------------------------------------------------------------

  /** {@code CONSUMER.CREATE.<stream>[.<name>[.<filter>]]} and {@code CONSUMER.DURABLE.CREATE.<stream>.<name>}. */
  Future<String> create(JetStreamApi.Requester connection, StreamDeclaration stream, String apiName,
                        JsonObject request, boolean durableApi) {
    JsonObject json = request.getJsonObject("config", new JsonObject());
    if (durableApi && json.getString("durable_name") == null) {
      json = json.copy().put("durable_name", apiName);
    }
    ConsumerConfig config = ConsumerConfig.parse(json, apiName, stream);
    if (!connection.permissions().maySubscribe(config.filter())) {
      throw StreamError.invalid("forbidden", "this credential may not read '" + config.filter() + "'");
    }
    JsConsumer existing = consumers.get(key(stream.name(), config.name()));
    if (existing != null) {
      return info(existing);
    }
    return register(stream, config, config.durable() ? null : connection.connection(), connection.context())
        .compose(this::info);
  }

  /**
   * Creates a durable consumer for an operator (the admin API, through {@link ConsumerOperations}):
   * the same configuration rules as {@link #create}, without a connection; one that exists is a conflict.
   */
  Future<JsConsumer> createDurable(StreamDeclaration stream, JsonObject json, Context caller) {
    ConsumerConfig config = ConsumerConfig.parse(json, null, stream);
    if (!config.durable()) {
      throw StreamError.invalid("invalid_consumer", "a consumer created by an operator is durable: give it a name");
    }
    if (consumers.containsKey(key(stream.name(), config.name()))) {
      throw StreamError.conflict("consumer_exists", "consumer '" + config.name()
          + "' already exists on stream '" + stream.name() + "'");
    }
    return register(stream, config, null, caller);
  }

  private Future<JsConsumer> register(StreamDeclaration stream, ConsumerConfig config, NatsConnection owner,
                                      Context caller) {
    if (stream.workQueue()) {
      checkWorkQueue(stream, config);
    }
    JsConsumer consumer = new JsConsumer(stream, config, Instant.now().toString(), owner, server, vertx, context);
    consumers.put(key(stream.name(), config.name()), consumer);
    Future<Void> started;
    if (consumer.wildcard() != null) {
      wildcards.add(consumer);
      started = consumer.wildcard().start(config);
    } else {
      started = subscribe(consumer, config.start(), List.of(), caller);
    }
    return started
        .compose(v -> config.durable() ? save(stream.name()) : Future.succeededFuture())
        .map(v -> consumer)
        .onFailure(failure -> delete(consumer));
  }

  /**
   * {@code CONSUMER.PAUSE}: pauses deliveries until {@code untilMs} (epoch ms), or resumes them for 0
   * or a past time; a durable consumer's pause is saved at once, so it survives a restart.
   */
  Future<Void> pause(JsConsumer consumer, long untilMs) {
    consumer.pauseUntil(untilMs);
    return consumer.config.durable() ? save(consumer.stream) : Future.succeededFuture();
  }

  /**
   * JetStream's work-queue rule: each message goes to one consumer, so a second consumer is refused
   * unless both have filters that no subject matches together.
   */
  private void checkWorkQueue(StreamDeclaration stream, ConsumerConfig config) {
    for (JsConsumer other : consumers.values()) {
      if (!other.stream.equals(stream.name())) {
        continue;
      }
      if (config.filter().equals(stream.subject()) || other.subject.equals(stream.subject())) {
        throw StreamError.invalid("wq_multiple_unfiltered",
            "multiple non-filtered consumers not allowed on workqueue stream");
      }
      if (SubjectPatterns.overlap(config.filter(), other.subject)) {
        throw StreamError.invalid("wq_not_unique", "filtered consumer not unique on workqueue stream");
      }
    }
  }

  /** Attaches a literal stream's consumer to its subject's actor and subscribes it where it starts (or resumes). */
  private Future<Void> subscribe(JsConsumer consumer, long start, List<long[]> unacknowledged, Context caller) {
    SubjectFollower follower = consumer.single();
    return server.registry.attach(follower.subject, caller).compose(actor -> {
      follower.attached(actor);
      if (consumer.isDeleted()) {
        actor.detach(follower);
        return Future.succeededFuture();
      }
      Promise<Long> subscribed = Promise.promise();
      if (consumer.config.startTimeMs() >= 0 && unacknowledged.isEmpty() && start <= 0) {
        actor.subscribeFromTime(follower, consumer.config.startTimeMs(), (last, failure) -> complete(subscribed, last,
            failure));
      } else {
        actor.subscribe(follower, start, unacknowledged, (last, failure) -> complete(subscribed, last, failure));
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
    return consumer.state().map(state -> consumer.info(state).encode());
  }

  /** The consumers of {@code stream}, in name order (the order the listings page in). */
  List<JsConsumer> of(String stream) {
    List<JsConsumer> of = new ArrayList<>();
    new TreeMap<>(consumers).values().forEach(c -> {
      if (c.stream.equals(stream)) {
        of.add(c);
      }
    });
    return of;
  }

  List<String> names(String stream) {
    return of(stream).stream().map(JsConsumer::name).toList();
  }

  /** The infos of {@code page}'s consumers, in its order. */
  Future<List<JsonObject>> infos(List<JsConsumer> page) {
    List<Future<JsonObject>> infos = new ArrayList<>();
    page.forEach(c -> infos.add(c.state().map(c::info)));
    return Future.all(infos).map(all -> infos.stream().map(Future::result).toList());
  }

  /** Deletes a consumer: it stops, lets go of its subjects' actors and (durable) leaves the saved state. */
  Future<Void> delete(JsConsumer consumer) {
    if (!release(consumer)) {
      return Future.succeededFuture();
    }
    return consumer.config.durable() ? save(consumer.stream) : Future.succeededFuture();
  }

  /** Stops a consumer and lets go of its subjects' actors; false if it was gone already. */
  private boolean release(JsConsumer consumer) {
    if (!consumers.remove(key(consumer.stream, consumer.name()), consumer)) {
      return false;
    }
    consumer.deleted();
    if (consumer.wildcard() != null) {
      wildcards.remove(consumer);
      consumer.wildcard().delete();
    } else if (consumer.single().actor() != null) {
      consumer.single().actor().detach(consumer.single());
    }
    return true;
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
    consumer.pull(reply, batch, noWait, expiresMs, heartbeatMs);
  }

  // ---- the tap --------------------------------------------------------------------------------

  /** Whether a wildcard consumer follows {@code subject}; asked on every append, so cheap without any. */
  boolean follows(String subject) {
    for (JsConsumer consumer : wildcards) {
      if (consumer.wildcard().matches(subject)) {
        return true;
      }
    }
    return false;
  }

  /** Messages of {@code subject} from {@code firstSequence} on are durable: wildcard consumers follow it if not yet. */
  void tapped(String subject, long firstSequence) {
    for (JsConsumer consumer : wildcards) {
      if (consumer.wildcard().matches(subject)) {
        consumer.wildcard().tapped(subject, firstSequence);
      }
    }
  }

  // ---- acks -----------------------------------------------------------------------------------

  /**
   * An ack subject with its payload: {@code +ACK} (or nothing), {@code -NAK} with an optional delay,
   * {@code +WPI}, {@code +TERM}, {@code +NXT}. The subject is one of the two forms
   * {@link SubjectFollower} writes: {@code $JS.ACK.<stream>.<consumer>.<delivered>.<seq>.<delivery id>.<ts>.<pending>}
   * or, naming the follower of a wildcard stream's subject by its slot,
   * {@code $JS.ACK._.<slot>.<stream>.<consumer>.<delivered>.<seq>.<delivery id>.<ts>.<pending>.0}.
   * Plain acks join the connection's {@link AckBatch}; with a reply (a synchronous ack) the answer
   * follows the ack on the actor.
   */
  void ack(AckBatch batch, String subject, String reply, byte[] payload) {
    // Cut in place (a split into nine strings was a tenth of a replay).
    int[] dots = new int[11];
    int count = 0;
    for (int i = ACK_PREFIX.length(); i < subject.length() && count < dots.length; i++) {
      if (subject.charAt(i) == '.') {
        dots[count++] = i;
      }
    }
    boolean slotted = count >= 9;
    if (count < 6) {
      return;
    }
    int streamAt = slotted ? dots[1] + 1 : ACK_PREFIX.length();
    int first = slotted ? 2 : 0;
    String stream = subject.substring(streamAt, dots[first]);
    JsConsumer consumer = consumers.get(key(stream, subject.substring(dots[first] + 1, dots[first + 1])));
    if (consumer == null && server.calls.clustered()) {
      server.jetStream.forwarding().forwardAck(batch, stream, subject, reply, payload);
      return;
    }
    long slot;
    long deliveryId;
    try {
      slot = slotted ? Long.parseLong(subject, dots[0] + 1, dots[1], 10) : SubjectFollower.NO_SLOT;
      deliveryId = Long.parseLong(subject, dots[first + 3] + 1, dots[first + 4], 10);
    } catch (NumberFormatException e) {
      return;
    }
    SubjectFollower follower = consumer == null ? null : consumer.follower(slot);
    StreamActor actor = follower == null ? null : follower.actor();
    if (actor == null) {
      return;
    }
    String kind = new String(payload, StandardCharsets.US_ASCII).trim();
    consumer.changed();
    consumer.acknowledged();
    if (kind.isEmpty() || kind.startsWith("+ACK") || kind.startsWith("+NXT")) {
      batch.add(follower, deliveryId);
      if (reply == null) {
        return;
      }
      batch.flush();
    } else if (kind.startsWith("-NAK")) {
      actor.nak(follower, deliveryId, nakDelayMs(kind.substring(4).trim()));
    } else if (kind.startsWith("+WPI")) {
      actor.progress(follower, deliveryId);
    } else if (kind.startsWith("+TERM")) {
      actor.terminate(follower, deliveryId);
    }
    if (reply != null) {
      actor.execute(() -> server.publishEphemeral(reply, null, null, new byte[0]));
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
      if (c.config.durable() && c.dirty() && !streams.contains(c.stream) && runsHere(c.stream)) {
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
      if (c.stream.equals(stream) && c.config.durable() && (c.single() == null || c.single().actor() != null)) {
        durable.add(c);
      }
    });
    List<Future<JsonObject>> states = new ArrayList<>();
    for (JsConsumer consumer : durable) {
      consumer.saved();
      states.add(consumer.state().map(state -> new JsonObject().put("name", consumer.name())
          .put("config", consumer.configJson()).put("created", consumer.created).put("state", state)));
    }
    return Future.all(states).compose(all -> {
      JsonArray saved = new JsonArray();
      states.forEach(state -> saved.add(state.result()));
      byte[] snapshot = new JsonObject().put("consumers", saved).encode().getBytes(StandardCharsets.UTF_8);
      return server.calls.append(STATE_PREFIX + stream, snapshot, true);
    }).onFailure(failure -> durable.forEach(JsConsumer::changed)).mapEmpty();
  }

  /**
   * Whether this node runs the consumers of {@code stream}: always on a single node; in cluster
   * mode while it leads the stream's subject (a deposed leader's save would take the new one's
   * progress back).
   */
  private boolean runsHere(String stream) {
    StreamDeclaration declared = server.jetStream.declaration(stream);
    return declared == null || server.calls.servesHere(declared.subject());
  }

  /** Brings back the durable consumers of {@code stream} from their last save, if any. */
  Future<Void> restore(StreamDeclaration stream) {
    String stateSubject = STATE_PREFIX + stream.name();
    return server.calls.info(stateSubject).compose(info -> {
      if (info.lastSequence() == 0) {
        return Future.succeededFuture();
      }
      return server.calls.read(stateSubject, info.lastSequence(), 1, Long.MAX_VALUE).compose(page -> {
        if (page.isEmpty()) {
          return Future.succeededFuture();
        }
        JsonArray saved = new JsonObject(new String(page.get(0).stored(), StandardCharsets.UTF_8))
            .getJsonArray("consumers");
        List<Future<Void>> resumed = new ArrayList<>();
        for (int i = 0; i < saved.size(); i++) {
          resumed.add(resume(stream, saved.getJsonObject(i)));
        }
        return Future.all(resumed).mapEmpty();
      });
    });
  }

  private Future<Void> resume(StreamDeclaration stream, JsonObject saved) {
    ConsumerConfig config = ConsumerConfig.parse(saved.getJsonObject("config"), saved.getString("name"), stream);
    JsonObject state = saved.getJsonObject("state");
    JsConsumer consumer = new JsConsumer(stream, config, saved.getString("created"), null, server, vertx,
        context);
    consumers.put(key(stream.name(), config.name()), consumer);
    if (consumer.wildcard() != null) {
      wildcards.add(consumer);
      return consumer.wildcard().resume(state.getJsonObject("subjects", new JsonObject()));
    }
    return subscribe(consumer, state.getLong("next", 1L), unacked(state), context);
  }

  /** The {@code unacked} pairs (sequence, delivery count) of a saved position. */
  static List<long[]> unacked(JsonObject position) {
    List<long[]> unacked = new ArrayList<>();
    JsonArray pairs = position.getJsonArray("unacked", new JsonArray());
    for (int i = 0; i < pairs.size(); i++) {
      unacked.add(new long[] {pairs.getJsonArray(i).getLong(0), pairs.getJsonArray(i).getLong(1)});
    }
    return unacked;
  }
}
