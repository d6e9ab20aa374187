package io.dstream.broker.nats;

import io.dstream.broker.stream.StreamError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;

/**
 * The JetStream consumers as an operator works with them (the admin API): list, inspect, create
 * durable ones, delete, pause and resume, by stream and consumer name, without a NATS connection.
 * Everything goes through {@link JetStreamConsumers}, so a consumer made here follows the same
 * configuration rules and is the same object as one made with {@code CONSUMER.CREATE}. Answers are
 * JetStream's own consumer info objects ({@code consumer_info_response}), the one description of a
 * consumer; views translate them.
 *
 * <p>Failures are {@link StreamError}s: {@code NOT_FOUND} for a stream that is not declared or a
 * consumer that does not exist, {@code INVALID} for a configuration the JetStream API would refuse,
 * {@code CONFLICT} for a consumer that exists already. Threading: call on a Vert.x context, passed as
 * {@code caller}; the futures complete on it or on the actors' contexts.
 */
public final class ConsumerOperations {

  private static final String CALL = "nats.consumer.operation";

  private final NatsServer server;

  ConsumerOperations(NatsServer server) {
    this.server = server;
  }

  /**
   * A stream's consumers run on the node leading its subject (docs/cluster.md): in cluster mode an
   * operation on them is sent there through {@link io.dstream.broker.cluster.LeaderCalls}.
   */
  void start() {
    server.calls.register(CALL, (subject, request, context) -> ready(context)
        .compose(api -> here(api, new JsonObject(request), context)).map(JsonObject::toBuffer));
  }

  /**
   * A page of the consumers' infos and how many consumers there are in all.
   *
   * @param consumers the infos of the page, by stream, then name
   * @param total     the consumers of the streams listed
   */
  public record Listing(List<JsonObject> consumers, int total) {
  }

  /**
   * The infos of the consumers of {@code stream}, or of every declared stream for null, by stream,
   * then name: at most {@code limit} from the {@code offset}-th on. Each stream's leader answers its
   * part of the page and its count, so no answer holds more than a page.
   */
  public Future<Listing> list(String stream, int offset, int limit, Context caller) {
    return ready(caller).compose(api -> {
      List<StreamDeclaration> streams = stream == null ? api.declarations() : List.of(declared(api, stream));
      return listFrom(api, streams.iterator(), offset, limit, new ArrayList<>(), 0, caller);
    });
  }

  /** Asks the streams in turn for what is left of the page, from what is left of the offset, and their counts. */
  private Future<Listing> listFrom(JetStreamApi api, Iterator<StreamDeclaration> streams, int skip, int limit,
                                   List<JsonObject> page, int total, Context caller) {
    if (!streams.hasNext()) {
      return Future.succeededFuture(new Listing(page, total));
    }
    JsonObject request = new JsonObject().put("op", "list").put("offset", skip).put("limit", limit - page.size());
    return run(api, streams.next(), request, caller).compose(answer -> {
      int streamTotal = answer.getInteger("total");
      answer.getJsonArray("consumers").forEach(info -> page.add((JsonObject) info));
      return listFrom(api, streams, Math.max(0, skip - streamTotal), limit, page, total + streamTotal, caller);
    });
  }

  /** One consumer's info. */
  public Future<JsonObject> info(String stream, String name, Context caller) {
    return operation(stream, new JsonObject().put("op", "info").put("name", name), caller);
  }

  /** Creates a durable consumer from a JetStream {@code ConsumerConfig} (its {@code durable_name} is required). */
  public Future<JsonObject> create(String stream, JsonObject config, Context caller) {
    return operation(stream, new JsonObject().put("op", "create").put("config", config), caller);
  }

  /** Deletes a consumer, durable or ephemeral, with its saved state. */
  public Future<Void> delete(String stream, String name, Context caller) {
    return operation(stream, new JsonObject().put("op", "delete").put("name", name), caller).mapEmpty();
  }

  /** Pauses a consumer until {@code untilMs} (epoch ms), or resumes it for 0; answers its info after. */
  public Future<JsonObject> pause(String stream, String name, long untilMs, Context caller) {
    return operation(stream, new JsonObject().put("op", "pause").put("name", name).put("until", untilMs), caller);
  }

  private Future<JsonObject> operation(String stream, JsonObject request, Context caller) {
    return ready(caller).compose(api -> run(api, declared(api, stream), request, caller));
  }

  /** Runs an operation on the node that runs the stream's consumers: here, or the one leading its subject. */
  private Future<JsonObject> run(JetStreamApi api, StreamDeclaration declared, JsonObject request, Context caller) {
    request.put("stream", declared.name());
    if (server.calls.servesHere(declared.subject())) {
      return here(api, request, caller);
    }
    // Not repeated after a timeout: a create or a delete may have been made.
    return server.calls.call(declared.subject(), CALL, request.toBuffer(), false).map(JsonObject::new);
  }

  private Future<JsonObject> here(JetStreamApi api, JsonObject request, Context caller) {
    StreamDeclaration declared = declared(api, request.getString("stream"));
    JetStreamConsumers consumers = api.consumers();
    String name = request.getString("name");
    return consumers.adopted(declared).compose(v -> switch (request.getString("op")) {
      case "list" -> {
        ApiPage<JsConsumer> page = ApiPage.of(consumers.of(declared.name()), request, request.getInteger("limit"));
        yield consumers.infos(page.items()).map(infos -> new JsonObject().put("total", page.total())
            .put("consumers", new JsonArray(new ArrayList<>(infos))));
      }
      case "info" -> consumers.info(consumers.find(declared.name(), name)).map(JsonObject::new);
      case "create" -> consumers.createDurable(declared, request.getJsonObject("config"), caller)
          .compose(consumers::info).map(JsonObject::new);
      case "delete" -> consumers.delete(consumers.find(declared.name(), name)).map(done -> new JsonObject());
      case "pause" -> {
        JsConsumer consumer = consumers.find(declared.name(), name);
        yield consumers.pause(consumer, request.getLong("until")).compose(done -> consumers.info(consumer))
            .map(JsonObject::new);
      }
      default -> Future.failedFuture(StreamError.invalid("unknown_operation", "unknown consumer operation"));
    });
  }

  /** The JetStream API once its declarations are loaded. */
  private Future<JetStreamApi> ready(Context caller) {
    JetStreamApi api = server.jetStream;
    if (api == null) {
      return Future.failedFuture(StreamError.of(StreamError.Kind.UNAVAILABLE, "starting",
          "the JetStream API is not started yet"));
    }
    return api.loaded(caller).map(v -> api);
  }

  private static StreamDeclaration declared(JetStreamApi api, String stream) {
    StreamDeclaration declaration = api.declaration(stream);
    if (declaration == null) {
      throw StreamError.notFound("stream_not_found", "no stream '" + stream + "' is declared (declare it with the"
          + " JetStream API, $JS.API.STREAM.CREATE." + stream + ", as nats stream add does)");
    }
    return declaration;
  }
}
