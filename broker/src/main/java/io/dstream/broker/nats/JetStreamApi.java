package io.dstream.broker.nats;

import io.dstream.broker.auth.Permissions;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.retention.Limits;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamInfo;
import io.dstream.broker.stream.SubjectDestroyedHook;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The JetStream API subset on {@code $JS.API.>}, mapped onto our model: every subject is its own
 * stream, so a stream config names exactly one subject: a literal one (the stream is that subject),
 * or one wildcard pattern (the stream is a view over every matching subject, each keeping its own
 * sequence; its consumers follow them all, see {@link WildcardFollowers}). Declarations are kept
 * in {@link StreamDeclarations}. A stream's limits ({@code max_age}, {@code max_msgs},
 * {@code max_bytes}, {@code max_msg_size}, {@code discard}, read by {@link StreamConfig}) are the
 * retention rule of its subject, and its info reports the limits in force for the subject, whichever
 * rule they come from.
 *
 * <p>Threading: requests are served on the calling connection's context; the name maps are
 * concurrent because PubAcks read them on the actors' contexts.
 */
final class JetStreamApi {

  static final String PREFIX = "$JS.API.";
  private static final String PULL = "CONSUMER.MSG.NEXT.";
  private static final Logger LOG = LoggerFactory.getLogger(JetStreamApi.class);
  private static final long CLUSTER_REFRESH_MS = 1_000;

  /**
   * Who asks: a client of this node ({@code connection}), or in cluster mode one of another node,
   * which forwarded the request here (no connection: its ephemeral consumers end with inactivity).
   */
  record Requester(Permissions permissions, Context context, NatsConnection connection) {
    static Requester of(NatsConnection connection) {
      return new Requester(connection.permissions(), connection.context, connection);
    }
  }

  private final NatsServer server;
  private final SubjectDestroyedHook destroyed;
  private final StreamDeclarations declarations;
  private final JetStreamConsumers consumers;
  private final JetStreamForwarding forwarding;
  private Future<Void> loading;

  JetStreamApi(NatsServer server, SubjectDestroyedHook destroyed) {
    this.server = server;
    this.destroyed = destroyed;
    this.declarations = new StreamDeclarations(server.calls);
    this.consumers = new JetStreamConsumers(server);
    this.forwarding = new JetStreamForwarding(server, this);
  }

  JetStreamConsumers consumers() {
    return consumers;
  }

  JetStreamForwarding forwarding() {
    return forwarding;
  }

  /**
   * Replays the declarations log now and brings back the durable consumers, if the local store
   * holds the log or the bucket may ({@code present}: it held checkpoints when the broker started,
   * so after a lost disk the log and the consumers' state come back from it before any client asks,
   * and deliveries resume). Otherwise at the first API request: a broker that never saw a
   * declaration keeps no actor for them.
   */
  Future<Void> load(Vertx vertx, boolean present) {
    consumers.start(vertx);
    if (server.calls.clustered()) {
      forwarding.start();
      // Other nodes declare streams too: a declaration reaches every node before its client is answered,
      // and what a node missed (it did not answer in time) is read here within a second.
      vertx.setPeriodic(CLUSTER_REFRESH_MS, id -> loaded(vertx.getOrCreateContext()));
      return Future.succeededFuture();
    }
    return present ? loaded(vertx.getOrCreateContext()) : Future.succeededFuture();
  }

  Future<Void> stop() {
    return consumers.stop();
  }

  /** The declarations, loaded (or restored) on first use; every API request and operator's call waits for it. */
  synchronized Future<Void> loaded(Context context) {
    if (server.calls.clustered()) {
      // Another node may have declared or deleted a stream since the last look.
      return declarations.read();
    }
    if (loading == null || loading.failed()) {
      loading = declarations.read().compose(v -> {
        List<Future<Void>> restored = new ArrayList<>();
        declarations.all().forEach(declared -> restored.add(consumers.restore(declared)));
        return Future.all(restored).mapEmpty();
      });
    }
    return loading;
  }

  /**
   * The declarations as the request {@code api} needs them. In cluster mode other nodes declare
   * streams too: they are read again for a request that lists streams or names one this node does
   * not know; one naming a stream known here goes on at once (the copy is read every second anyway).
   */
  Future<Void> declarationsFor(String api, Context context) {
    if (server.calls.clustered()) {
      String name = JetStreamForwarding.streamOf(api);
      if (name != null && declarations.get(name) != null) {
        return Future.succeededFuture();
      }
    }
    return loaded(context);
  }

  /** The declared stream {@code name}, or null if none is declared by that name. */
  StreamDeclaration declaration(String name) {
    return declarations.get(name);
  }

  /** The declared streams, in name order. */
  List<StreamDeclaration> declarations() {
    return declarations.all();
  }

  /** The stream name PubAcks give for {@code subject} (see {@link StreamDeclarations#streamName}). */
  String streamName(String subject) {
    return declarations.streamName(subject);
  }

  /** Serves one API request; the answer goes to {@code reply} (none without one). */
  void handle(NatsConnection connection, String subject, String reply, byte[] payload) {
    String api = subject.substring(PREFIX.length());
    JsonObject request;
    try {
      request = payload.length == 0 ? new JsonObject() : new JsonObject(new String(payload, StandardCharsets.UTF_8));
    } catch (DecodeException | ClassCastException e) {
      server.delivery.answer(reply,
          JetStreamErrors.json(400, JetStreamErrors.BAD_REQUEST, "the request is not a JSON object"));
      return;
    }
    // One connection's requests are answered in the order it sent them, as nats-server does.
    Requester requester = Requester.of(connection);
    connection.apiQueue = connection.apiQueue.transform(previous -> declarationsFor(api, connection.context).compose(v -> {
      try {
        String home = forwarding.home(api, request);
        return home == null ? route(requester, api, request, reply, payload)
            : forwarding.forward(requester, home, subject, reply, payload);
      } catch (StreamError e) {
        return Future.failedFuture(e);
      }
    }).transform(ar -> {
      // A pull request that fails (no such consumer; in cluster mode, its node out of reach) gets no
      // answer, as from nats-server: its client's fetch ends empty and pulls again, where an error
      // body on the pull inbox made jnats's fetch throw.
      boolean pull = api.startsWith(PULL);
      if (ar.failed() && !pull || ar.succeeded() && ar.result() != null) {
        server.delivery.answer(reply, ar.succeeded() ? ar.result() : JetStreamErrors.of(ar.cause()));
      } else if (ar.failed()) {
        LOG.debug("pull request {} not served: {}", subject, ar.cause().toString());
      }
      return Future.succeededFuture();
    }));
  }

  /**
   * Answers {@code api} here; a null answer means the request is answered otherwise (a pull
   * request's messages). In cluster mode, a stream's requests come here on the node leading its subject.
   */
  Future<String> route(Requester connection, String api, JsonObject request, String reply, byte[] payload) {
    // Waits until this node, newly leading the stream's subject, has brought the stream's consumers back.
    String name = JetStreamForwarding.streamOf(api);
    StreamDeclaration stream = name == null ? null : declarations.get(name);
    if (stream != null) {
      return consumers.adopted(stream).compose(v -> routeHere(connection, api, request, reply, payload));
    }
    return routeHere(connection, api, request, reply, payload);
  }

  private Future<String> routeHere(Requester connection, String api, JsonObject request, String reply,
                                   byte[] payload) {
    if (api.equals("INFO")) {
      return Future.succeededFuture(accountInfo());
    }
    if (api.equals("STREAM.NAMES")) {
      return Future.succeededFuture(names(request));
    }
    if (api.equals("STREAM.LIST")) {
      return list(connection, request);
    }
    if (api.startsWith("CONSUMER.")) {
      return consumer(connection, api.substring("CONSUMER.".length()), request, reply, payload);
    }
    int dot = api.indexOf('.', "STREAM.".length());
    if (!api.startsWith("STREAM.") || dot < 0) {
      throw StreamError.invalid("unknown_api", "unknown or unsupported JetStream API '" + api + "'");
    }
    if (api.startsWith("STREAM.MSG.GET.")) {
      return getMessage(connection, api.substring("STREAM.MSG.GET.".length()), request);
    }
    String operation = api.substring("STREAM.".length(), dot);
    String name = api.substring(dot + 1);
    return switch (operation) {
      case "CREATE" -> create(connection, name, request, false);
      case "UPDATE" -> create(connection, name, request, true);
      case "INFO" -> info(connection, declared(name, connection, false));
      case "DELETE" -> delete(connection, declared(name, connection, true));
      case "PURGE" -> purge(connection, declared(name, connection, true), request);
      default -> throw StreamError.invalid("unknown_api", "unknown or unsupported JetStream API '" + api + "'");
    };
  }

  /** {@code $JS.API.CONSUMER.<operation>.<stream>[.<consumer>[.<filter>]]}. */
  private Future<String> consumer(Requester connection, String api, JsonObject request, String reply,
                                  byte[] payload) {
    String[] parts = api.split("\\.", -1);
    boolean durableApi = parts.length >= 2 && parts[0].equals("DURABLE") && parts[1].equals("CREATE");
    boolean next = parts.length >= 2 && parts[0].equals("MSG") && parts[1].equals("NEXT");
    int streamAt = durableApi || next ? 2 : 1;
    if (parts.length <= streamAt) {
      throw StreamError.invalid("unknown_api", "unknown or unsupported JetStream API 'CONSUMER." + api + "'");
    }
    StreamDeclaration declared = declared(parts[streamAt], connection, false);
    String name = parts.length > streamAt + 1 ? parts[streamAt + 1] : null;
    if (durableApi || parts[0].equals("CREATE")) {
      return consumers.create(connection, declared, name, request, durableApi);
    }
    if (next) {
      if (reply != null) {
        consumers.next(consumers.find(declared.name(), required(name)), reply, payload);
      }
      return Future.succeededFuture(null);
    }
    return switch (parts[0]) {
      case "INFO" -> consumers.info(consumers.find(declared.name(), required(name)));
      case "PAUSE" -> pause(consumers.find(declared.name(), required(name)), request);
      case "DELETE" -> consumers.delete(consumers.find(declared.name(), required(name)))
          .map(v -> new JsonObject().put("type", "io.nats.jetstream.api.v1.consumer_delete_response")
              .put("success", true).encode());
      case "NAMES" -> {
        ApiPage<String> page = ApiPage.of(consumers.names(declared.name()), request, ApiPage.NAMES);
        yield Future.succeededFuture(page.answer("io.nats.jetstream.api.v1.consumer_names_response")
            .put("consumers", new JsonArray(new ArrayList<>(page.items()))).encode());
      }
      case "LIST" -> {
        ApiPage<JsConsumer> page = ApiPage.of(consumers.of(declared.name()), request, ApiPage.INFOS);
        yield consumers.infos(page.items()).map(infos -> page.answer("io.nats.jetstream.api.v1.consumer_list_response")
            .put("consumers", new JsonArray(new ArrayList<>(infos))).encode());
      }
      default -> throw StreamError.invalid("unknown_api", "unknown or unsupported JetStream API 'CONSUMER." + api + "'");
    };
  }

  /**
   * {@code CONSUMER.PAUSE.<stream>.<consumer>} with {@code {"pause_until":"RFC 3339"}}: paused until
   * then; no time, or a past one, resumes. Answered as nats-server 2.11 does.
   */
  private Future<String> pause(JsConsumer consumer, JsonObject request) {
    long untilMs = ConsumerConfig.pauseUntilMs(request.getValue("pause_until"));
    return consumers.pause(consumer, untilMs).map(v -> {
      long now = System.currentTimeMillis();
      JsonObject answer = new JsonObject().put("type", "io.nats.jetstream.api.v1.consumer_pause_response")
          .put("paused", untilMs > now)
          .put("pause_until", untilMs == 0 ? "0001-01-01T00:00:00Z" : Instant.ofEpochMilli(untilMs).toString());
      if (untilMs > now) {
        answer.put("pause_remaining", TimeUnit.MILLISECONDS.toNanos(untilMs - now));
      }
      return answer.encode();
    });
  }

  private static String required(String name) {
    if (name == null || name.isEmpty()) {
      throw StreamError.invalid("unknown_api", "the API subject must name the consumer");
    }
    return name;
  }

  private StreamDeclaration declared(String name, Requester connection, boolean write) {
    StreamDeclaration declared = declarations.get(name);
    if (declared == null) {
      throw StreamError.notFound("stream_not_found", "stream not found");
    }
    boolean allowed = write ? connection.permissions().mayPublish(declared.subject())
        : connection.permissions().maySubscribe(declared.subject());
    if (!allowed) {
      throw StreamError.invalid("forbidden", "this credential may not " + (write ? "change" : "read") + " stream '"
          + name + "'");
    }
    return declared;
  }

  private String accountInfo() {
    return new JsonObject().put("type", "io.nats.jetstream.api.v1.account_info_response")
        .put("memory", 0).put("storage", 0).put("streams", declarations.size()).put("consumers", 0)
        .put("limits", new JsonObject().put("max_memory", -1).put("max_storage", -1).put("max_streams", -1)
            .put("max_consumers", -1))
        .put("api", new JsonObject().put("total", 0).put("errors", 0)).encode();
  }

  private Future<String> create(Requester connection, String name, JsonObject config, boolean update) {
    if (name.isEmpty() || name.contains(".") || name.contains("*") || name.contains(">")) {
      throw StreamError.invalid("invalid_name", "invalid stream name '" + name + "'");
    }
    if (config.getString("name") != null && !name.equals(config.getString("name"))) {
      throw StreamError.invalid("invalid_name", "stream name in subject does not match request");
    }
    String subject = StreamConfig.requestedSubject(name, config);
    if (!server.calls.onePartition(subject)) {
      throw StreamError.invalid("not_supported", "durable-stream cluster mode: the subjects matching '" + subject
          + "' are not all in one partition, so no one node could run the stream's consumers: a wildcard"
          + " stream needs the cluster created with DSTREAM_CLUSTER_PLACEMENT_TOKENS=n (n >= 1) and a pattern whose"
          + " first n tokens are literal, such as orders.> for n = 1 (docs/cluster.md)");
    }
    String retention = config.getString("retention", StreamDeclaration.LIMITS).toLowerCase(Locale.ROOT);
    if (!retention.equals(StreamDeclaration.LIMITS) && !retention.equals(StreamDeclaration.WORK_QUEUE)) {
      throw StreamError.invalid("invalid_config", "durable-stream: retention '" + retention
          + "' is not supported; use 'limits' or 'workqueue'");
    }
    if (!connection.permissions().mayPublish(subject)) {
      throw StreamError.invalid("forbidden", "this credential may not publish to '" + subject + "'");
    }
    declarations.check(name, subject);
    StreamDeclaration existing = declarations.get(name);
    if (existing != null && update && !existing.retention().equals(retention)) {
      throw StreamError.invalid("invalid_config", "stream configuration update can not change retention policy"
          + " to/from workqueue");
    }
    if (update && existing == null) {
      throw StreamError.notFound("stream_not_found", "stream not found");
    }
    if (existing != null && !update) {
      return info(connection, existing);
    }
    Limits limits = StreamConfig.limits(config);
    JsonObject stored = config.copy().put("name", name).put("subjects", new JsonArray().add(subject))
        .put("retention", retention);
    String created = existing != null ? existing.created() : Instant.now().toString();
    JsonObject record = new JsonObject().put("op", "put").put("name", name).put("subject", subject)
        .put("config", stored).put("created", created);
    return retentionRule(subject, limits, connection.context())
        .compose(v -> declarations.append(record)).compose(v -> info(connection, declarations.get(name)));
  }

  /** Makes {@code limits} the rule of the stream's subject; no limit at all removes the rule, so wider rules apply. */
  private Future<Void> retentionRule(String subject, Limits limits, Context context) {
    if (!limits.unlimited()) {
      return server.retention.put(subject, limits, context).mapEmpty();
    }
    if (server.retention.current().rule(subject) == null) {
      return Future.succeededFuture();
    }
    return server.retention.remove(subject, context).mapEmpty();
  }

  private Future<String> info(Requester connection, StreamDeclaration declared) {
    return streamInfo(connection.context(), declared).map(JsonObject::encode);
  }

  private Future<JsonObject> streamInfo(Context context, StreamDeclaration declared) {
    if (declared.wildcard()) {
      return wildcardInfo(context, declared);
    }
    return server.registry.<StreamInfo>ask(declared.subject(), context, StreamActor::info).map(info -> {
      JsonObject config = defaults(declared);
      long messages = info.messages();
      JsonObject state = new JsonObject().put("messages", messages).put("bytes", info.bytes())
          .put("first_seq", messages == 0 ? info.lastSequence() + 1 : info.firstSequence())
          .put("last_seq", info.lastSequence()).put("consumer_count", consumers.names(declared.name()).size())
          .put("first_ts", "0001-01-01T00:00:00Z").put("last_ts", "0001-01-01T00:00:00Z");
      return server.replicas.described(declared.subject(), new JsonObject()
          .put("type", "io.nats.jetstream.api.v1.stream_info_response").put("config", config)
          .put("created", declared.created()).put("state", state).put("ts", Instant.now().toString()));
    });
  }

  /**
   * A wildcard stream's numbers, summed over the matching subjects' applied records in the local
   * store (at most {@code DSTREAM_NATS_MAX_WILDCARD_SUBJECTS} of them, the first in name order):
   * messages, bytes and {@code num_subjects}. It has no stream-wide sequence, so {@code first_seq}
   * and {@code last_seq} are 0.
   */
  private Future<JsonObject> wildcardInfo(Context context, StreamDeclaration declared) {
    int limit = server.settings.maxWildcardSubjects();
    return context.executeBlocking(() -> MatchingSubjects.list(server.store, declared.subject(), limit), false)
        .map(subjects -> {
          long messages = 0;
          long bytes = 0;
          for (Map.Entry<String, SubjectRecord> entry : subjects) {
            messages += entry.getValue().messages();
            bytes += entry.getValue().bytes();
          }
          JsonObject state = new JsonObject().put("messages", messages).put("bytes", bytes).put("first_seq", 0L)
              .put("last_seq", 0L).put("num_subjects", subjects.size())
              .put("consumer_count", consumers.names(declared.name()).size())
              .put("first_ts", "0001-01-01T00:00:00Z").put("last_ts", "0001-01-01T00:00:00Z");
          JsonObject info = new JsonObject().put("type", "io.nats.jetstream.api.v1.stream_info_response")
              .put("config", defaults(declared)).put("created", declared.created()).put("state", state)
              .put("ts", Instant.now().toString());
          // In cluster mode its subjects' partition has a leader and replicas, as a literal stream's has.
          return server.calls.onePartition(declared.subject()) ? server.replicas.described(declared.subject(), info)
              : info;
        });
  }

  /**
   * The declared config with the values our model fixes (file storage, the subject's copies) and the
   * retention limits in force for its subject or pattern (-1 or 0 where unlimited, as JetStream).
   */
  private JsonObject defaults(StreamDeclaration declared) {
    JsonObject config = declared.config().copy();
    Limits limits = server.retention.effective(declared.subject()).limits();
    config.put("retention", declared.retention()).put("storage", "file")
        .put("num_replicas", server.replicas.count(declared.subject()))
        .put("discard", limits.discard().wire());
    config.put("max_msgs", unlimitedAsMinusOne(limits.maxMessages())).put("max_bytes", unlimitedAsMinusOne(limits.maxBytes()))
        .put("max_age", limits.maxAgeMs() * 1_000_000).put("max_msgs_per_subject", -1L).put("max_consumers", -1)
        .put("max_msg_size", limits.maxMessageSize() > 0 ? limits.maxMessageSize() : server.settings.maxPayload())
        .put("duplicate_window", server.config.dedupWindow().toNanos());
    return config;
  }

  private static long unlimitedAsMinusOne(long bound) {
    return bound > 0 ? bound : -1L;
  }

  private String names(JsonObject request) {
    String filter = request.getString("subject");
    List<String> names = new ArrayList<>();
    declarations.all().forEach(declared -> {
      if (filter == null || SubjectPatterns.overlap(filter, declared.subject())) {
        names.add(declared.name());
      }
    });
    ApiPage<String> page = ApiPage.of(names, request, ApiPage.NAMES);
    return page.answer("io.nats.jetstream.api.v1.stream_names_response")
        .put("streams", new JsonArray(new ArrayList<>(page.items()))).encode();
  }

  private Future<String> list(Requester connection, JsonObject request) {
    ApiPage<StreamDeclaration> page = ApiPage.of(declarations.all(), request, ApiPage.INFOS);
    List<Future<JsonObject>> infos = new ArrayList<>();
    page.items().forEach(declared -> infos.add(server.calls.servesHere(declared.subject())
        ? streamInfo(connection.context(), declared) : forwarding.info(declared)));
    return Future.all(infos).map(done -> {
      JsonArray streams = new JsonArray();
      infos.forEach(info -> streams.add(info.result()));
      return page.answer("io.nats.jetstream.api.v1.stream_list_response").put("streams", streams).encode();
    });
  }

  /**
   * Deletes the stream: its declaration, its consumers and its subject's messages (the subject
   * starts again at 1). A wildcard stream's subjects are streams of their own and keep their messages.
   */
  private Future<String> delete(Requester connection, StreamDeclaration declared) {
    Future<Void> consumersGone = consumers.streamDeleted(declared.name());
    Future<Void> messagesGone = declared.wildcard() ? consumersGone : consumersGone
        .compose(v -> server.registry.<Long>ask(declared.subject(), connection.context(), StreamActor::destroy))
        .compose(v -> destroyed.subjectDestroyed(declared.subject()));
    return messagesGone
        .compose(v -> retentionRule(declared.subject(), Limits.UNLIMITED, connection.context()))
        .compose(v -> declarations.append(new JsonObject().put("op", "delete").put("name", declared.name())))
        .map(v -> new JsonObject().put("type", "io.nats.jetstream.api.v1.stream_delete_response")
            .put("success", true).encode());
  }

  /** Purges messages: all, or those below {@code seq}, or all but the last {@code keep}. */
  private Future<String> purge(Requester connection, StreamDeclaration declared, JsonObject request) {
    String subject = request.getString("filter", declared.subject());
    if (declared.wildcard() ? SubjectPatterns.isPattern(subject) || !declared.pattern().matches(subject)
        : !subject.equals(declared.subject())) {
      throw StreamError.invalid("not_supported", declared.wildcard()
          ? "purging a wildcard stream needs a filter naming one of its subjects (each has its own sequence)"
          : "purge filter must be the stream's subject");
    }
    long below = request.getLong("seq", 0L);
    long keep = request.getLong("keep", 0L);
    return server.registry.<StreamInfo>ask(subject, connection.context(), StreamActor::info)
        .compose(before -> server.registry.call(subject, connection.context(), tx -> {
          long last = tx.lastSequence();
          long upTo = below > 0 ? Math.min(last, below - 1) : keep > 0 ? Math.max(0, last - keep) : last;
          tx.deleteUpTo(upTo);
          return Math.max(0, upTo - before.firstSequence() + 1);
        }))
        .map(purged -> new JsonObject().put("type", "io.nats.jetstream.api.v1.stream_purge_response")
            .put("success", true).put("purged", purged).encode());
  }

  /**
   * {@code STREAM.MSG.GET}: by {@code seq}, or {@code last_by_subj}, or (a wildcard stream, whose
   * sequences are per subject) {@code next_by_subj} with {@code seq}: the first message of that
   * subject at or after it. A wildcard stream needs one of the two subject forms, naming one literal
   * subject it matches.
   */
  private Future<String> getMessage(Requester connection, String name, JsonObject request) {
    StreamDeclaration declared = declared(name, connection, false);
    String lastBySubject = request.getString("last_by_subj");
    String nextBySubject = request.getString("next_by_subj");
    String named = lastBySubject != null ? lastBySubject : nextBySubject;
    String subject = declared.wildcard() ? named : declared.subject();
    if (declared.wildcard() && (subject == null || SubjectPatterns.isPattern(subject)
        || !declared.pattern().matches(subject))) {
      throw StreamError.invalid("not_supported", "stream '" + name + "' is a wildcard stream, whose subjects each"
          + " have their own sequence: ask with last_by_subj, or next_by_subj and seq, naming one of its subjects");
    }
    if (!declared.wildcard() && named != null && !named.equals(subject)) {
      throw StreamError.notFound("no_message", "no message found");
    }
    long seq = request.getLong("seq", 0L);
    boolean atOrAfter = lastBySubject == null && nextBySubject != null;
    Future<Long> sequence = lastBySubject != null
        ? server.registry.<StreamInfo>ask(subject, connection.context(), StreamActor::info).map(StreamInfo::lastSequence)
        : Future.succeededFuture(atOrAfter ? Math.max(1, seq) : seq);
    return sequence.compose(wanted -> server.registry.<List<Published>>ask(subject, connection.context(),
        (actor, reply) -> actor.readPage(wanted, 1, 1, reply)).map(page -> {
          if (wanted <= 0 || page.isEmpty() || !atOrAfter && page.get(0).sequence() != wanted
              || page.get(0).sequence() < wanted) {
            throw StreamError.notFound("no_message", "no message found");
          }
          return messageResponse(subject, page.get(0));
        }));
  }

  private static String messageResponse(String subject, Published message) {
    byte[] stored = message.stored();
    JsonObject body = new JsonObject().put("subject", subject).put("seq", message.sequence())
        .put("data", Base64.getEncoder().encodeToString(StoredObject.natsPayload(stored)))
        .put("time", Instant.ofEpochMilli(message.timestampMs()).toString());
    byte[] headers = StoredObject.natsHeaders(stored);
    if (headers != null) {
      body.put("hdrs", Base64.getEncoder().encodeToString(headers));
    }
    return new JsonObject().put("type", "io.nats.jetstream.api.v1.stream_msg_get_response").put("message", body)
        .encode();
  }
}
