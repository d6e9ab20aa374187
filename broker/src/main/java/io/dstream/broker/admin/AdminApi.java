package io.dstream.broker.admin;

import io.dstream.broker.cluster.Leadership;
import io.dstream.broker.nats.ConsumerOperations;
import io.dstream.broker.retention.Retention;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.stream.ConsumerView;
import io.dstream.broker.stream.StreamRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;

/**
 * The admin routes (docs/admin.md), for exports, operators and the web console:
 * {@code GET /admin/overview} (the broker's meters, {@link Overview}),
 * {@code GET /admin/subjects} pages through subjects in name order, optionally under a prefix,
 * {@code GET /admin/subjects/{subject}} adds the state object with its revision (also as the
 * {@code ETag}), the consumers and the retention limits, the message routes of
 * {@link SubjectMessages} page, delete and replace state, {@link ConsumerRoutes} operate the
 * JetStream consumers and {@link RetentionRoutes} list, set and remove retention rules. In cluster
 * mode {@code GET /admin/cluster} shows the partitions as this node sees them (peers, leader, term,
 * role, applied index) and {@code GET /admin/cluster/subject/{subject}} one subject's placement.
 *
 * <p>Listings come from committed store data, so they show exactly what was acknowledged; store
 * reads run on the readers' worker pool, never on the event loop. A page costs one B-tree descent
 * per subject it returns (plus one to find where a prefix starts), so it answers as fast with a
 * million subjects as with ten. Subscriber counts and consumers come from the actors in memory,
 * asked through a read-only call that never wakes a hibernated subject (which has none).
 * Authentication and the admin permission are the router's, before these handlers.
 */
public final class AdminApi {

  /** Page size when the request names none. */
  static final int DEFAULT_LIMIT = 100;
  /** Largest page; bounds the memory and time of one request. */
  static final int MAX_LIMIT = 1000;

  private final MessageStore store;
  private final WorkerExecutor readers;
  private final StreamRegistry registry;
  private final AdminRequests requests;
  private final SubjectMessages messages;
  private final Overview overview;
  private final ConsumerRoutes consumers;
  private final RetentionRoutes retention;
  /** Cluster mode's view of the partitions (docs/cluster.md); null on a single node. */
  private final Leadership cluster;

  /**
   * {@code maxStateBytes} bounds a state object replaced through {@code PUT .../state}, and the body of
   * a consumer's create or pause request.
   */
  public AdminApi(MessageStore store, WorkerExecutor readers, StreamRegistry registry, Overview overview,
                  ConsumerOperations jetStreamConsumers, Retention retention, int maxStateBytes, Leadership cluster) {
    this.store = store;
    this.readers = readers;
    this.registry = registry;
    this.cluster = cluster;
    this.requests = new AdminRequests(store, readers, registry);
    this.messages = new SubjectMessages(requests, maxStateBytes, subject -> cluster != null && cluster.term(subject) < 0);
    this.overview = overview;
    this.consumers = new ConsumerRoutes(jetStreamConsumers, maxStateBytes);
    this.retention = new RetentionRoutes(retention);
  }

  /** Adds the admin routes to {@code router}. */
  public void mount(Router router) {
    router.get("/admin/overview").handler(overview::handle);
    router.get("/admin/subjects").handler(this::handleList);
    router.get("/admin/subjects/:subject").handler(this::handleSubject);
    messages.mount(router);
    consumers.mount(router);
    retention.mount(router);
    if (cluster != null) {
      router.get("/admin/cluster").handler(ctx -> AdminRequests.json(ctx, cluster.status().encode()));
      router.get("/admin/cluster/subject/:subject").handler(ctx ->
          AdminRequests.json(ctx, cluster.subject(ctx.pathParam("subject")).encode()));
    }
  }

  private void handleList(RoutingContext ctx) {
    Integer limit = AdminRequests.limit(ctx, DEFAULT_LIMIT, MAX_LIMIT);
    if (limit == null) {
      return;
    }
    String prefix = ctx.request().getParam("prefix", "");
    String cursor = ctx.request().getParam("cursor", "");
    readers.executeBlocking(() -> page(prefix, cursor, limit + 1), false)
        .compose(page -> registry.consumers(names(page), Vertx.currentContext()).map(consumers -> {
          boolean truncated = page.size() > limit;
          JsonArray subjects = new JsonArray();
          for (Map.Entry<String, SubjectRecord> entry : page.subList(0, Math.min(limit, page.size()))) {
            subjects.add(summary(entry.getKey(), entry.getValue(), consumers.getOrDefault(entry.getKey(), List.of())));
          }
          String next = truncated ? subjects.getJsonObject(subjects.size() - 1).getString("subject") : null;
          return new JsonObject().put("subjects", subjects).put("truncated", truncated).put("cursor", next).encode();
        }))
        .onSuccess(body -> AdminRequests.json(ctx, body))
        .onFailure(failure -> AdminRequests.fail(ctx, failure));
  }

  /**
   * Up to {@code count} subjects under {@code prefix} after {@code cursor}. Names with the prefix
   * sort together, right after the prefix itself, so the page is a walk from there that stops at the
   * first name without it.
   */
  private List<Map.Entry<String, SubjectRecord>> page(String prefix, String cursor, int count) {
    List<Map.Entry<String, SubjectRecord>> page = new ArrayList<>();
    String after = cursor;
    if (cursor.isEmpty() && !prefix.isEmpty()) {
      SubjectRecord exact = store.find(prefix);
      if (exact != null) {
        page.add(Map.entry(prefix, exact));
      }
      after = prefix;
    }
    for (Map.Entry<String, SubjectRecord> entry : store.subjects(after.isEmpty() ? null : after, count - page.size())) {
      if (!entry.getKey().startsWith(prefix)) {
        break;
      }
      page.add(entry);
    }
    return page;
  }

  private static List<String> names(List<Map.Entry<String, SubjectRecord>> page) {
    List<String> names = new ArrayList<>(page.size());
    for (Map.Entry<String, SubjectRecord> entry : page) {
      names.add(entry.getKey());
    }
    return names;
  }

  private void handleSubject(RoutingContext ctx) {
    String subject = ctx.pathParam("subject");
    readers.executeBlocking(() -> store.find(subject), false).onComplete(found -> {
      if (found.failed()) {
        AdminRequests.fail(ctx, found.cause());
      } else if (found.result() == null) {
        AdminRequests.notFound(ctx);
      } else {
        SubjectRecord record = found.result();
        registry.consumers(List.of(subject), Vertx.currentContext()).onComplete(asked -> {
          if (asked.failed()) {
            AdminRequests.fail(ctx, asked.cause());
            return;
          }
          List<ConsumerView> consumers = asked.result().getOrDefault(subject, List.of());
          JsonArray views = new JsonArray();
          consumers.forEach(view -> views.add(consumer(view)));
          // The state is spliced in as stored: decoding it would change numbers and escapes (1e400, "\ud800").
          String answer = summary(subject, record, consumers)
              .put("producerVersion", SubjectRecord.longValue(record.view(SubjectRecord.RECORDS_VIEW)))
              .put("stateRevision", record.stateRevision()).put("consumers", views)
              .put("limits", retention.limits(subject)).encode();
          ctx.response().putHeader("ETag", SubjectMessages.etag(record.stateRevision()));
          AdminRequests.json(ctx, answer.substring(0, answer.length() - 1) + ",\"state\":"
              + new String(record.state(), StandardCharsets.UTF_8) + "}");
        });
      }
    });
  }

  private static JsonObject consumer(ConsumerView view) {
    return new JsonObject().put("subscriber", view.subscriber()).put("nextSequence", view.nextSequence())
        .put("pending", view.pending()).put("window", view.window()).put("lag", view.lag())
        .put("queued", view.queued()).put("redelivered", view.redelivered());
  }

  private static JsonObject summary(String subject, SubjectRecord record, List<ConsumerView> consumers) {
    CRC32 stateCrc = new CRC32();
    stateCrc.update(record.state());
    return new JsonObject().put("subject", subject).put("firstSequence", record.firstSequence())
        .put("lastSequence", record.lastSequence()).put("messages", record.messages()).put("bytes", record.bytes())
        .put("stateCrc32", stateCrc.getValue()).put("lastPublishMs", record.lastTimestampMs())
        .put("subscribers", consumers.size());
  }
}
