package io.dstream.broker.records;

import io.dstream.broker.auth.Permissions;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.http.AuthenticationHandler;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamRegistry;
import io.dstream.broker.stream.SubjectDestroyedHook;
import io.vertx.core.Future;
import io.vertx.core.Handler;
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
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;

/**
 * The records API on plain {@code GET}/{@code POST}/{@code DELETE /stream/{subject}} (docs/http.md):
 * translates requests into calls of the subject's {@link StreamActor}, the same one WebSocket v1
 * uses. A record is stored as a v1 stored object whose {@code data} is the record; a read returns
 * the {@code data} of each stored object, whichever view wrote it.
 *
 * <p>Threading: handlers run on the request's event loop; each request is one actor call
 * ({@link StreamRegistry#ask}), whose reply comes back to that event loop before the response is
 * written.
 */
public final class RecordsHandler {

  private static final Logger LOG = LoggerFactory.getLogger(RecordsHandler.class);
  /** Marks a long-poll whose client went away before its read was parked. */
  private static final Runnable CLIENT_GONE = () -> { };

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
        registry.<Long>ask(subject, Vertx.currentContext(), StreamActor::destroy)
            .compose(ignored -> destroyedHook.subjectDestroyed(subject))
            .onSuccess(ignored -> ctx.response().setStatusCode(204).end())
            .onFailure(failure -> sendFailure(ctx, subject, failure));
        break;
      default:
        throw new IllegalArgumentException("records API called for " + ctx.request().method());
    }
  }

  // ---- POST -----------------------------------------------------------------------------------

  /** A POST's result: the sequences appended and the producer version after them. */
  private record Appended(long[] sequences, long producerVersion) {
  }

  private void append(RoutingContext ctx, String subject, String ip) {
    long version;
    List<String> records;
    try {
      version = version(ctx.request().getParam("version"));
      records = bodyParser.parse(utf8(ctx.body().buffer()), config.maxRecordsPerPost());
    } catch (StreamError e) {
      sendFailure(ctx, subject, e);
      return;
    }
    if (records.isEmpty() && version == StreamActor.NO_VERSION) {
      HttpErrors.send(ctx.response(), 400, "invalid_records",
          "records must hold 1 to " + config.maxRecordsPerPost() + " records (an empty list only with ?version=)");
      return;
    }
    List<byte[]> prefixes = new ArrayList<>(records.size());
    for (String record : records) {
      prefixes.add(StoredObject.prefix(record, "null", "null", ip));
    }
    registry.call(subject, Vertx.currentContext(), tx -> {
      if (version != StreamActor.NO_VERSION) {
        tx.fence(version);
      }
      long[] sequences = new long[prefixes.size()];
      for (int i = 0; i < sequences.length; i++) {
        byte[] prefix = prefixes.get(i);
        sequences[i] = tx.append(sequence -> StoredObject.withSequence(prefix, sequence)).sequence();
      }
      return new Appended(sequences, tx.producerVersion());
    }).onSuccess(appended -> sendJson(ctx.response(), records.isEmpty() ? versionBody(appended) : offsetsBody(appended)))
        .onFailure(failure -> sendFailure(ctx, subject, failure));
  }

  private static long version(String text) {
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
    throw StreamError.invalid("invalid_version", "version must be a non-negative integer, got '" + text + "'");
  }

  private static String utf8(Buffer body) {
    if (body == null) {
      return "";
    }
    try {
      return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body.getBytes())).toString();
    } catch (CharacterCodingException e) {
      throw StreamError.invalid("invalid_json", "the body is not valid UTF-8");
    }
  }

  private static String offsetsBody(Appended appended) {
    StringBuilder body = new StringBuilder("{\"offsets\":[");
    for (int i = 0; i < appended.sequences().length; i++) {
      body.append(i == 0 ? "\"" : ",\"").append(appended.sequences()[i]).append('"');
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
    } catch (StreamError e) {
      sendFailure(ctx, subject, e);
      return;
    }
    if (query.waitMs() > 0 && metrics.longPollWaiters().incrementAndGet() > config.maxLongPollWaiters()) {
      metrics.longPollWaiters().decrementAndGet();
      sendFailure(ctx, subject, StreamError.of(StreamError.Kind.OVERLOADED, "too_many_waiters",
          "too many long-polls are waiting; retry later or without timeout_sec"));
      return;
    }
    // The client may go away before the read is parked: the close is seen here, on the request's
    // context, and the read cancelled on the actor's once it is parked (whichever comes second).
    AtomicReference<Runnable> cancel = new AtomicReference<>();
    if (query.waitMs() > 0) {
      ctx.response().closeHandler(closed -> {
        Runnable parked = cancel.getAndSet(CLIENT_GONE);
        if (parked != null) {
          parked.run();
        }
      });
    }
    registry.<List<Published>>ask(subject, Vertx.currentContext(), (actor, reply) -> {
      if (query.sinceMs() == null) {
        read(actor, query, query.fromSequence(), reply, cancel);
      } else {
        actor.firstSequenceAt(query.sinceMs(), (from, failure) -> {
          if (failure != null) {
            reply.accept(null, failure);
          } else {
            read(actor, query, from, reply, cancel);
          }
        });
      }
    }).onComplete(done -> {
      if (query.waitMs() > 0) {
        metrics.longPollWaiters().decrementAndGet();
      }
      if (done.failed()) {
        sendFailure(ctx, subject, done.cause());
      } else {
        sendJson(ctx.response(), recordsBody(done.result()));
      }
    });
  }

  /** The read on the actor; a long-poll is cancelled when its client goes away (see {@code cancel}). */
  private static void read(StreamActor actor, RecordsQuery query, long from, BiConsumer<List<Published>, Throwable> reply,
                           AtomicReference<Runnable> cancel) {
    actor.read(from, query.limit(), query.waitMs(), reply);
    if (query.waitMs() > 0 && !cancel.compareAndSet(null, () -> actor.cancelRead(reply))) {
      actor.cancelRead(reply);
    }
  }

  private static Buffer recordsBody(List<Published> records) {
    Buffer body = Buffer.buffer("{\"records\":[");
    for (int i = 0; i < records.size(); i++) {
      Published record = records.get(i);
      byte[] stored = StoredObject.forV1(record.stored(), record.sequence());
      int[] data = StoredObject.dataRange(stored);
      body.appendString(i == 0 ? "{\"offset\":\"" : ",{\"offset\":\"").appendString(Long.toString(record.sequence()))
          .appendString("\",\"ts\":").appendString(Long.toString(record.timestampMs())).appendString(",\"data\":");
      if (data == null) {
        body.appendString("null");
      } else {
        body.appendBytes(stored, data[0], data[1] - data[0]);
      }
      body.appendByte((byte) '}');
    }
    return body.appendString("]}");
  }

  // ---- answers --------------------------------------------------------------------------------

  /** The records API's one mapping of a failure (see {@link HttpErrors#send(HttpServerResponse, StreamError)}). */
  private static void sendFailure(RoutingContext ctx, String subject, Throwable failure) {
    StreamError error = StreamError.from(failure);
    HttpServerResponse response = ctx.response();
    if (error.kind() == StreamError.Kind.FENCED) {
      // The records API's documented fencing answer predates the common error shape.
      sendJson(response.setStatusCode(409), new JsonObject().put("error", error.getMessage())
          .put("current_version", error.currentVersion()).put("provided_version", error.providedVersion()).encode());
      return;
    }
    if (error.kind() == StreamError.Kind.INTERNAL) {
      LOG.error("records request on '{}' failed", subject, failure);
    }
    HttpErrors.send(response, error);
  }

  private static void sendJson(HttpServerResponse response, String json) {
    sendJson(response, Buffer.buffer(json));
  }

  private static void sendJson(HttpServerResponse response, Buffer json) {
    if (!response.ended() && !response.closed()) {
      response.putHeader("Content-Type", "application/json").end(json);
    }
  }
}
