package io.dstream.broker.admin;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamRegistry;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.zip.CRC32;

/**
 * Read-only admin routes over the store, for exports and operators (docs/cli.md, "Admin API"):
 * {@code GET /admin/subjects} pages through every subject with its sequence bounds,
 * {@code GET /admin/subjects/{subject}} adds the state object, and
 * {@code GET /admin/subjects/{subject}/messages} pages through stored messages with their timestamps.
 *
 * <p>Listings come from committed store data, so they show exactly what was acknowledged; store
 * reads run on the readers' worker pool, never on the event loop. Message pages are read through
 * the subject's actor (durable messages only), which also reaches messages the archive moved to the
 * bucket. Authentication is the router's, before these handlers.
 */
public final class AdminApi {

  /** Page size when the request names none. */
  static final int DEFAULT_LIMIT = 100;
  /** Largest page; bounds the memory and time of one request. */
  static final int MAX_LIMIT = 1000;

  private final MessageStore store;
  private final WorkerExecutor readers;
  private final StreamRegistry registry;

  public AdminApi(MessageStore store, WorkerExecutor readers, StreamRegistry registry) {
    this.store = store;
    this.readers = readers;
    this.registry = registry;
  }

  /** Adds the admin routes to {@code router}. */
  public void mount(Router router) {
    router.get("/admin/subjects").handler(this::handleList);
    router.get("/admin/subjects/:subject").handler(this::handleSubject);
    router.get("/admin/subjects/:subject/messages").handler(this::handleMessages);
  }

  private void handleList(RoutingContext ctx) {
    Integer limit = limit(ctx);
    if (limit == null) {
      return;
    }
    String cursor = ctx.request().getParam("cursor");
    String after = cursor == null || cursor.isEmpty() ? null : cursor;
    blocking(ctx, () -> {
      List<Map.Entry<String, SubjectRecord>> page = store.subjects(after, limit + 1);
      boolean truncated = page.size() > limit;
      JsonArray subjects = new JsonArray();
      for (Map.Entry<String, SubjectRecord> entry : page.subList(0, Math.min(limit, page.size()))) {
        subjects.add(summary(entry.getKey(), entry.getValue()));
      }
      String next = truncated ? subjects.getJsonObject(subjects.size() - 1).getString("subject") : null;
      return new JsonObject().put("subjects", subjects).put("truncated", truncated).put("cursor", next).encode();
    });
  }

  private void handleSubject(RoutingContext ctx) {
    String subject = ctx.pathParam("subject");
    blocking(ctx, () -> {
      SubjectRecord record = store.find(subject);
      if (record == null) {
        return null;
      }
      // The state is spliced in as stored: decoding it would change numbers and escapes (1e400, "\ud800").
      String summary = summary(subject, record).encode();
      return summary.substring(0, summary.length() - 1) + ",\"state\":"
          + new String(record.state(), StandardCharsets.UTF_8) + "}";
    });
  }

  private void handleMessages(RoutingContext ctx) {
    String subject = ctx.pathParam("subject");
    Integer limit = limit(ctx);
    Long from = number(ctx, "from", 1);
    if (limit == null || from == null) {
      return;
    }
    // Existence is checked in the store, so asking for an unknown subject never creates it.
    readers.executeBlocking(() -> store.find(subject), false).onComplete(found -> {
      if (found.failed()) {
        ctx.fail(found.cause());
      } else if (found.result() == null) {
        HttpErrors.send(ctx.response(), 404, "not_found", "no subject '" + subject + "'");
      } else {
        readThroughActor(ctx, subject, Math.max(from, found.result().firstSequence()), limit);
      }
    });
  }

  /** The actor's read reaches messages the archive moved out of the local store, too. */
  private void readThroughActor(RoutingContext ctx, String subject, long from, int limit) {
    Context caller = Vertx.currentContext();
    registry.attach(subject, caller).onComplete(attached -> {
      if (attached.failed()) {
        ctx.fail(attached.cause());
        return;
      }
      StreamActor actor = attached.result();
      actor.info((info, infoFailure) -> actor.read(from, limit, 0, (page, failure) -> caller.runOnContext(v -> {
        actor.detach();
        if (infoFailure != null || failure != null) {
          ctx.fail(infoFailure != null ? infoFailure : failure);
          return;
        }
        ctx.response().putHeader("Content-Type", "application/json").end(messagesPage(subject, info.lastSequence(), from, page));
      })));
    });
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

  private static JsonObject summary(String subject, SubjectRecord record) {
    CRC32 stateCrc = new CRC32();
    stateCrc.update(record.state());
    return new JsonObject().put("subject", subject).put("firstSequence", record.firstSequence())
        .put("lastSequence", record.lastSequence()).put("messages", record.messages()).put("bytes", record.bytes())
        .put("stateCrc32", stateCrc.getValue());
  }

  /** Runs a store read on the worker pool; a null result is a 404 for the subject in the path. */
  private void blocking(RoutingContext ctx, Callable<String> read) {
    readers.executeBlocking(read, false).onComplete(ar -> {
      if (ar.failed()) {
        ctx.fail(ar.cause());
      } else if (ar.result() == null) {
        HttpErrors.send(ctx.response(), 404, "not_found", "no subject '" + ctx.pathParam("subject") + "'");
      } else {
        ctx.response().putHeader("Content-Type", "application/json").end(ar.result());
      }
    });
  }

  private static Integer limit(RoutingContext ctx) {
    Long limit = number(ctx, "limit", DEFAULT_LIMIT);
    if (limit == null) {
      return null;
    }
    if (limit < 1 || limit > MAX_LIMIT) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", "limit must be 1.." + MAX_LIMIT + ", got " + limit);
      return null;
    }
    return limit.intValue();
  }

  /** @return the query parameter as a number, its default if absent, or null after answering 400 */
  private static Long number(RoutingContext ctx, String name, long defaultValue) {
    String raw = ctx.request().getParam(name);
    if (raw == null || raw.isEmpty()) {
      return defaultValue;
    }
    try {
      return Long.parseLong(raw);
    } catch (NumberFormatException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", name + " must be an integer, got '" + raw + "'");
      return null;
    }
  }
}
