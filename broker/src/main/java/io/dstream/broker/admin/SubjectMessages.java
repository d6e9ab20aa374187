package io.dstream.broker.admin;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.SubjectTransaction;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * One subject's messages and state through its actor (the subject's one owner, so these calls
 * order with publishes): {@code GET .../messages} pages from a sequence or from a time (and reaches
 * messages the archive moved to the bucket), {@code DELETE .../messages?upTo=N} deletes up to a
 * sequence, {@code PUT .../state} replaces the state object. Each answers once the actor did, a
 * change only once it is durable. In cluster mode a node that does not lead the subject pages
 * through its own replica's store instead: the durable data stays readable without a leader, except
 * messages a checkpoint already moved to the bucket. Runs on the request's event loop.
 */
final class SubjectMessages {

  private final AdminRequests requests;
  private final int maxStateBytes;

  /** Largest page read from the local store without an actor (cluster mode, not the leader). */
  private static final long LOCAL_PAGE_BYTES = 4L * 1024 * 1024;

  private final java.util.function.Predicate<String> replicaOnly;

  /** {@code replicaOnly}: cluster mode, the subjects another node leads, read from this node's store. */
  SubjectMessages(AdminRequests requests, int maxStateBytes, java.util.function.Predicate<String> replicaOnly) {
    this.requests = requests;
    this.maxStateBytes = maxStateBytes;
    this.replicaOnly = replicaOnly;
  }

  void mount(Router router) {
    router.get("/admin/subjects/:subject/messages").handler(this::handleRead);
    router.delete("/admin/subjects/:subject/messages").handler(this::handleDelete);
    router.put("/admin/subjects/:subject/state").handler(BodyHandler.create(false).setBodyLimit(maxStateBytes))
        .handler(this::handlePutState);
  }

  private void handleRead(RoutingContext ctx) {
    Integer limit = AdminRequests.limit(ctx, AdminApi.DEFAULT_LIMIT, AdminApi.MAX_LIMIT);
    Long from = AdminRequests.number(ctx, "from", 1);
    Long since = AdminRequests.number(ctx, "since", -1);
    if (limit == null || from == null || since == null) {
      return;
    }
    if (ctx.request().getParam("since") != null && since < 0) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", "since must be a time in epoch milliseconds (>= 0)");
      return;
    }
    if (replicaOnly.test(ctx.pathParam("subject"))) {
      requests.withLocalRecord(ctx, (store, record) -> {
        long start = since >= 0 ? store.firstSequenceAtOrAfter(record.id(), since) : Math.max(from, record.firstSequence());
        if (start == 0) {
          start = record.lastSequence() + 1;
        }
        List<Published> page = store.read(record.id(), start, limit, LOCAL_PAGE_BYTES).stream()
            .map(message -> new Published(message.sequence(), message.timestampMs(), message.payload())).toList();
        return messagesPage(ctx.pathParam("subject"), record.lastSequence(), start, page);
      });
      return;
    }
    requests.withActor(ctx, (record, actor, reply) -> start(record, actor, from, since, (start, startFailure) -> {
      if (startFailure != null) {
        reply.accept(null, startFailure);
        return;
      }
      actor.info((info, infoFailure) -> {
        if (infoFailure != null) {
          reply.accept(null, infoFailure);
          return;
        }
        actor.read(start, limit, 0, (page, readFailure) -> reply.accept(
            page == null ? null : messagesPage(actor.subject(), info.lastSequence(), start, page), readFailure));
      });
    }));
  }

  /** Where a read starts: the first message at or after {@code since} if given, else {@code from}. */
  private static void start(SubjectRecord record, StreamActor actor, long from, long since,
                            BiConsumer<Long, Throwable> onStart) {
    if (since >= 0) {
      actor.firstSequenceAt(since, onStart);
    } else {
      onStart.accept(Math.max(from, record.firstSequence()), null);
    }
  }

  private static String messagesPage(String subject, long lastSequence, long from, List<Published> page) {
    StringBuilder json = new StringBuilder("{\"subject\":").append(Json.encode(subject))
        .append(",\"lastSequence\":").append(lastSequence).append(",\"messages\":[");
    long next = from;
    String separator = "";
    for (Published message : page) {
      // The stored object is already JSON text: embedded as is, never re-encoded (a NATS message is rendered as one).
      byte[] stored = StoredObject.forV1(message.stored(), message.sequence());
      json.append(separator).append("{\"sequence\":").append(message.sequence()).append(",\"ts\":")
          .append(message.timestampMs()).append(",\"message\":").append(new String(stored, StandardCharsets.UTF_8)).append('}');
      separator = ",";
      next = message.sequence() + 1;
    }
    return json.append("],\"next\":").append(next).append('}').toString();
  }

  private void handleDelete(RoutingContext ctx) {
    Long upTo = AdminRequests.number(ctx, "upTo", -1);
    if (upTo == null) {
      return;
    }
    if (upTo < 0) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", "upTo must be given: the last sequence to delete (>= 0)");
      return;
    }
    requests.withActor(ctx, (record, actor, reply) -> actor.<Long>call(tx -> {
      tx.deleteUpTo(upTo);
      return tx.lastSequence();
    }, (last, failure) -> {
      if (failure != null) {
        reply.accept(null, failure);
        return;
      }
      actor.info((info, infoFailure) -> reply.accept(info == null ? null : new JsonObject().put("subject", actor.subject())
          .put("deletedUpTo", upTo).put("firstSequence", info.firstSequence()).put("lastSequence", info.lastSequence())
          .put("messages", info.messages()).put("bytes", info.bytes()).encode(), infoFailure));
    }));
  }

  private void handlePutState(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    try {
      Object parsed = body == null ? null : Json.decodeValue(body);
      if (!(parsed instanceof JsonObject)) {
        HttpErrors.send(ctx.response(), 400, "invalid_state", "the state must be a JSON object");
        return;
      }
    } catch (DecodeException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_json", "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
      return;
    }
    // Kept as sent, as v1's putState keeps it: decoding and encoding again would change numbers
    // such as 1e400 and strings holding a lone surrogate.
    String stateText = body.toString(StandardCharsets.UTF_8).strip();
    byte[] stateJson = stateText.getBytes(StandardCharsets.UTF_8);
    Long expected = expectedRevision(ctx);
    if (expected == null) {
      return;
    }
    requests.withActor(ctx, (record, actor, reply) -> actor.<long[]>call(
        tx -> new long[] {tx.lastSequence(), tx.putState(stateJson, expected)}, (put, failure) -> {
          if (put != null) {
            ctx.response().putHeader("ETag", etag(put[1]));
          }
          // The state stays last, spliced in as sent (see the admin GET).
          reply.accept(put == null ? null : "{\"subject\":" + Json.encode(actor.subject()) + ",\"lastSequence\":" + put[0]
              + ",\"revision\":" + put[1] + ",\"state\":" + stateText + "}", failure);
        }));
  }

  /**
   * The revision {@code If-Match} names ({@code "3"}, also unquoted or weak), {@link SubjectTransaction#ANY_REVISION}
   * without one or for {@code *}; null after answering 400.
   */
  private static Long expectedRevision(RoutingContext ctx) {
    String ifMatch = ctx.request().getHeader("If-Match");
    if (ifMatch == null || ifMatch.strip().equals("*")) {
      return SubjectTransaction.ANY_REVISION;
    }
    String tag = ifMatch.strip();
    if (tag.startsWith("W/")) {
      tag = tag.substring(2);
    }
    if (tag.length() >= 2 && tag.startsWith("\"") && tag.endsWith("\"")) {
      tag = tag.substring(1, tag.length() - 1);
    }
    try {
      long revision = Long.parseLong(tag);
      if (revision >= 0) {
        return revision;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    HttpErrors.send(ctx.response(), 400, "invalid_argument",
        "If-Match must name one state revision, as in If-Match: \"3\", got " + ifMatch);
    return null;
  }

  /** A state revision as an entity tag. */
  static String etag(long revision) {
    return "\"" + revision + "\"";
  }
}
