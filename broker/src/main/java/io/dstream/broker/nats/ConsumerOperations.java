package io.dstream.broker.nats;

import io.dstream.broker.stream.StreamError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
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

  private final NatsServer server;

  ConsumerOperations(NatsServer server) {
    this.server = server;
  }

  /** Info of every consumer of {@code stream}, or of every declared stream for null; by stream, then name. */
  public Future<List<JsonObject>> list(String stream, Context caller) {
    return ready(caller).compose(api -> {
      if (stream != null) {
        declared(api, stream);
      }
      List<String> streams = stream == null ? api.declarations().stream().map(StreamDeclaration::name).toList() : List.of(stream);
      List<Future<List<JsonObject>>> lists = new ArrayList<>();
      streams.forEach(name -> lists.add(api.consumers().list(name)));
      return Future.all(lists).map(done -> {
        List<JsonObject> all = new ArrayList<>();
        lists.forEach(list -> all.addAll(list.result()));
        return all;
      });
    });
  }

  /** One consumer's info. */
  public Future<JsonObject> info(String stream, String name, Context caller) {
    return ready(caller).compose(api -> {
      declared(api, stream);
      return api.consumers().info(api.consumers().find(stream, name)).map(JsonObject::new);
    });
  }

  /** Creates a durable consumer from a JetStream {@code ConsumerConfig} (its {@code durable_name} is required). */
  public Future<JsonObject> create(String stream, JsonObject config, Context caller) {
    return ready(caller).compose(api -> {
      return api.consumers().createDurable(declared(api, stream), config, caller)
          .compose(consumer -> api.consumers().info(consumer)).map(JsonObject::new);
    });
  }

  /** Deletes a consumer, durable or ephemeral, with its saved state. */
  public Future<Void> delete(String stream, String name, Context caller) {
    return ready(caller).compose(api -> {
      declared(api, stream);
      return api.consumers().delete(api.consumers().find(stream, name));
    });
  }

  /** Pauses a consumer until {@code untilMs} (epoch ms), or resumes it for 0; answers its info after. */
  public Future<JsonObject> pause(String stream, String name, long untilMs, Context caller) {
    return ready(caller).compose(api -> {
      declared(api, stream);
      JsConsumer consumer = api.consumers().find(stream, name);
      return api.consumers().pause(consumer, untilMs).compose(done -> api.consumers().info(consumer))
          .map(JsonObject::new);
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
