package io.dstream.broker.records;

import io.dstream.broker.archive.ArchiveUnavailableException;
import io.dstream.broker.auth.Permissions;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.http.AuthenticationHandler;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.store.StoreException;
import io.dstream.broker.stream.Appended;
import io.dstream.broker.stream.MessageTemplate;
import io.dstream.broker.stream.OverloadedException;
import io.dstream.broker.stream.ProducerFencedException;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamRegistry;
import io.dstream.broker.stream.SubjectDestroyedHook;
import io.dstream.broker.ws.V1StoredObject;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;

/**
 * The records API on plain {@code GET}/{@code POST}/{@code DELETE /stream/{subject}} (docs/http.md):
 * translates requests into calls of the subject's {@link StreamActor}, the same one WebSocket v1
 * uses. A record is stored as a v1 stored object whose {@code data} is the record; a read returns
 * the {@code data} of each stored object, whichever view wrote it.
 *
 * <p>Threading: handlers run on the request's event loop; actor callbacks are moved back to it
 * before the response is written. Each request holds its actor attached until it is answered, so
 * the actor cannot hibernate under it.
 */
public final class RecordsHandler {

  private static final Logger LOG = LoggerFactory.getLogger(RecordsHandler.class);

  private final StreamRegistry registry;
  private final BrokerConfig config;
  private final BrokerMetrics metrics;
  private final SubjectDestroyedHook destroyedHook;
  private final RecordsBody bodyParser = new RecordsBody();

  public RecordsHandler(StreamRegistry registry, BrokerConfig config, BrokerMetrics metrics,
                        SubjectDestroyedHook destroyedHook) {
    this.registry = registry;
    this.config = config;
    this.metrics = metrics;
    this.destroyedHook = destroyedHook;
  }

  /** Reads a POST body up to the configured limit (beyond it the request fails with 413). */
  public Handler<RoutingContext> bodyHandler() {
    return BodyHandler.create(false).setBodyLimit(config.maxRecordsBodyBytes());
  }

  /**
   * A GET (without upgrade), POST or DELETE on a valid subject of an authenticated request;
   * {@code ip} as stored messages show it. Reading needs the subscribe permission on the subject,
   * appending and destroying the publish permission (which also covers deleting v1 messages).
   */
  public void handle(RoutingContext ctx, String subject, String ip) {
    Permissions permissions = AuthenticationHandler.permissions(ctx);
    boolean reading = ctx.request().method().name().equals("GET");
    if (!AuthenticationHandler.require(ctx, reading ? permissions.maySubscribe(subject) : permissions.mayPublish(subject),
        (reading ? "read '" : "write to or delete '") + subject + "'")) {
      metrics.forbidden.increment();
      return;
    }
    switch (ctx.request().method().name()) {
      case "GET":
        read(ctx, subject);
        break;
      case "POST":
        append(ctx, subject, ip);
        break;
      case "DELETE":
        withActor(ctx, subject, actor -> call(actor::destroy)
            .compose(ignored -> destroyedHook.subjectDestroyed(subject))
            .map(ignored -> {
              ctx.response().setStatusCode(204).end();
              return null;
            }));
        break;
      default:
        throw new IllegalArgumentException("records API called for " + ctx.request().method());
    }
  }

  // ---- POST -----------------------------------------------------------------------------------

  private void append(RoutingContext ctx, String subject, String ip) {
    long version;
    List<String> records;
    try {
      version = version(ctx.request().getParam("version"));
      records = bodyParser.parse(utf8(ctx.body().buffer()), config.maxRecordsPerPost());
    } catch (InvalidRequestException e) {
      HttpErrors.send(ctx.response(), 400, e.code, e.getMessage());
      return;
    }
    if (records.isEmpty() && version == StreamActor.NO_VERSION) {
      HttpErrors.send(ctx.response(), 400, "invalid_records",
          "records must hold 1 to " + config.maxRecordsPerPost() + " records (an empty list only with ?version=)");
      return;
    }
    List<MessageTemplate> templates = new ArrayList<>(records.size());
    for (String record : records) {
      String prefix = V1StoredObject.prefix(record, "null", "null", ip);
      templates.add(sequence -> prefix + sequence + "}");
    }
    withActor(ctx, subject, actor -> this.<Appended>call(done -> actor.publishAll(templates, version, done))
        .map(appended -> {
          sendJson(ctx.response(), records.isEmpty() ? versionBody(appended) : offsetsBody(appended));
          return null;
        }));
  }

  private static long version(String text) throws InvalidRequestException {
    if (text == null) {
      return StreamActor.NO_VERSION;
    }
    try {
      long version = Long.parseLong(text);
      if (version >= 0) {
        return version;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw new InvalidRequestException("invalid_version", "version must be a non-negative integer, got '" + text + "'");
  }

  private static String utf8(Buffer body) throws InvalidRequestException {
    if (body == null) {
      return "";
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body.getBytes())).toString();
    } catch (CharacterCodingException e) {
      throw new InvalidRequestException("invalid_json", "the body is not valid UTF-8");
    }
  }

  private static String offsetsBody(Appended appended) {
    StringBuilder body = new StringBuilder("{\"offsets\":[");
    for (int i = 0; i < appended.messages().size(); i++) {
      body.append(i == 0 ? "\"" : ",\"").append(appended.messages().get(i).sequence()).append('"');
    }
    return body.append("]}").toString();
  }

  private static String versionBody(Appended appended) {
    return "{\"version\":" + appended.producerVersion() + "}";
  }

  // ---- GET ------------------------------------------------------------------------------------

  private void read(RoutingContext ctx, String subject) {
    RecordsQuery query;
    try {
      query = RecordsQuery.parse(ctx.queryParams(), config.maxRecordsPerRead(), config.longPollTimeout().toMillis());
    } catch (InvalidRequestException e) {
      HttpErrors.send(ctx.response(), 400, e.code, e.getMessage());
      return;
    }
    if (query.waitMs() > 0 && metrics.longPollWaiters().incrementAndGet() > config.maxLongPollWaiters()) {
      metrics.longPollWaiters().decrementAndGet();
      ctx.response().putHeader("Retry-After", "1");
      HttpErrors.send(ctx.response(), 503, "too_many_waiters",
          "too many long-polls are waiting; retry later or without timeout_sec");
      return;
    }
    withActor(ctx, subject, actor -> start(actor, query)
        .compose(from -> this.<List<Published>>call(done -> {
          if (query.waitMs() > 0) {
            ctx.response().closeHandler(closed -> actor.cancelRead(done));
          }
          actor.read(from, query.limit(), query.waitMs(), done);
        }))
        .map(records -> {
          sendJson(ctx.response(), recordsBody(records));
          return null;
        }))
        .onComplete(ignored -> {
          if (query.waitMs() > 0) {
            metrics.longPollWaiters().decrementAndGet();
          }
        });
  }

  private Future<Long> start(StreamActor actor, RecordsQuery query) {
    if (query.sinceMs() == null) {
      return Future.succeededFuture(query.fromSequence());
    }
    return call(done -> actor.firstSequenceAt(query.sinceMs(), done));
  }

  private static String recordsBody(List<Published> records) {
    StringBuilder body = new StringBuilder("{\"records\":[");
    for (int i = 0; i < records.size(); i++) {
      Published record = records.get(i);
      body.append(i == 0 ? "" : ",").append("{\"offset\":\"").append(record.sequence()).append("\",\"ts\":")
          .append(record.timestampMs()).append(",\"data\":").append(V1StoredObject.rawData(record.json())).append('}');
    }
    return body.append("]}").toString();
  }

  // ---- plumbing -------------------------------------------------------------------------------

  /**
   * Runs {@code operation} on the subject's actor, attached for the duration, and answers its
   * failure, if any, as an HTTP error. The returned future completes once the request is answered.
   */
  private Future<Void> withActor(RoutingContext ctx, String subject, Function<StreamActor, Future<Void>> operation) {
    Promise<Void> finished = Promise.promise();
    registry.attach(subject, Vertx.currentContext()).onComplete(attached -> {
      if (attached.failed()) {
        sendFailure(ctx, subject, attached.cause());
        finished.complete();
        return;
      }
      StreamActor actor = attached.result();
      Future<Void> answered;
      try {
        answered = operation.apply(actor);
      } catch (RuntimeException e) {
        answered = Future.failedFuture(e);
      }
      answered.onComplete(done -> {
        actor.detach();
        if (done.failed()) {
          sendFailure(ctx, subject, done.cause());
        }
        finished.complete();
      });
    });
    return finished.future();
  }

  /** An actor call as a future completed on the calling (request's) context. */
  private <T> Future<T> call(Consumer<BiConsumer<T, Throwable>> actorCall) {
    Context context = Vertx.currentContext();
    Promise<T> promise = Promise.promise();
    actorCall.accept((result, failure) -> context.runOnContext(v -> {
      if (failure != null) {
        promise.fail(failure);
      } else {
        promise.complete(result);
      }
    }));
    return promise.future();
  }

  private static void sendFailure(RoutingContext ctx, String subject, Throwable failure) {
    HttpServerResponse response = ctx.response();
    if (failure instanceof ProducerFencedException fenced) {
      sendJson(response.setStatusCode(409), new JsonObject().put("error", fenced.getMessage())
          .put("current_version", fenced.currentVersion()).put("provided_version", fenced.providedVersion()).encode());
    } else if (failure instanceof OverloadedException) {
      response.putHeader("Retry-After", "1");
      HttpErrors.send(response, 503, "overloaded", failure.getMessage());
    } else if (failure instanceof ArchiveUnavailableException) {
      response.putHeader("Retry-After", "1");
      HttpErrors.send(response, 503, "unavailable", failure.getMessage());
    } else if (failure instanceof StoreException) {
      HttpErrors.send(response, 500, "storage_error", failure.getMessage());
    } else {
      LOG.error("records request on '{}' failed", subject, failure);
      HttpErrors.send(response, 500, "internal", "internal error");
    }
  }

  private static void sendJson(HttpServerResponse response, String json) {
    if (!response.ended() && !response.closed()) {
      response.putHeader("Content-Type", "application/json").end(json);
    }
  }
}
