package io.dstream.broker.admin;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamInfo;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * One subject's messages and state through its actor (the subject's one owner, so these calls
 * order with publishes): {@code GET .../messages} pages from a sequence or from a time (and reaches
 * messages the archive moved to the bucket), {@code DELETE .../messages?upTo=N} deletes up to a
 * sequence, {@code PUT .../state} replaces the state object. Each answers once the actor did, a
 * change only once it is durable. Runs on the request's event loop.
 */
final class SubjectMessages {

  private final AdminRequests requests;
  private final int maxStateBytes;

  SubjectMessages(AdminRequests requests, int maxStateBytes) {
    this.requests = requests;
    this.maxStateBytes = maxStateBytes;
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
    requests.withActor(ctx, (record, actor) -> start(record, actor, from, since)
        .compose(start -> AdminRequests.<StreamInfo>call(actor::info)
            .compose(info -> AdminRequests.<List<Published>>call(done -> actor.read(start, limit, 0, done))
                .map(page -> messagesPage(actor.subject(), info.lastSequence(), start, page)))));
  }

  /** Where a read starts: the first message at or after {@code since} if given, else {@code from}. */
  private static Future<Long> start(SubjectRecord record, StreamActor actor, long from, long since) {
    if (since >= 0) {
      return AdminRequests.call(done -> actor.firstSequenceAt(since, done));
    }
    return Future.succeededFuture(Math.max(from, record.firstSequence()));
  }

  private static String messagesPage(String subject, long lastSequence, long from, List<Published> page) {
    StringBuilder json = new StringBuilder("{\"subject\":").append(Json.encode(subject))
        .append(",\"lastSequence\":").append(lastSequence).append(",\"messages\":[");
    long next = from;
    String separator = "";
    for (Published message : page) {
      // The stored object is already JSON text: embedded as is, never re-encoded.
      json.append(separator).append("{\"sequence\":").append(message.sequence()).append(",\"ts\":")
          .append(message.timestampMs()).append(",\"message\":").append(message.json()).append('}');
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
    requests.withActor(ctx, (record, actor) -> AdminRequests.<Long>call(done -> actor.deleteMessages(upTo, done))
        .compose(last -> AdminRequests.<StreamInfo>call(actor::info))
        .map(info -> new JsonObject().put("subject", actor.subject()).put("deletedUpTo", upTo)
            .put("firstSequence", info.firstSequence()).put("lastSequence", info.lastSequence())
            .put("messages", info.messages()).put("bytes", info.bytes()).encode()));
  }

  private void handlePutState(RoutingContext ctx) {
    Buffer body = ctx.body().buffer();
    JsonObject state;
    try {
      Object parsed = body == null ? null : Json.decodeValue(body);
      if (!(parsed instanceof JsonObject object)) {
        HttpErrors.send(ctx.response(), 400, "invalid_state", "the state must be a JSON object");
        return;
      }
      state = object;
    } catch (DecodeException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_json", "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
      return;
    }
    byte[] stateJson = state.encode().getBytes(StandardCharsets.UTF_8);
    requests.withActor(ctx, (record, actor) -> AdminRequests.<Long>call(done -> actor.putState(stateJson, done))
        .map(last -> new JsonObject().put("subject", actor.subject()).put("lastSequence", last)
            .put("state", state).encode()));
  }
}
