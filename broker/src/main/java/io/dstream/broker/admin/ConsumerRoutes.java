package io.dstream.broker.admin;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.nats.ConsumerOperations;
import io.dstream.broker.stream.StreamError;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

import java.util.function.Supplier;

/**
 * The JetStream consumers' admin routes (docs/admin.md, "JetStream consumers"): list them (all, or one
 * stream's), show one, create a durable one, delete one, pause and resume one. They work through
 * {@link ConsumerOperations}, the same consumers and rules as the JetStream API; the JSON is
 * {@link ConsumerJson}'s. A stream that is not declared, or a consumer that does not exist, is a 404
 * {@code not_found}. Runs on the request's event loop; authentication and the admin permission are
 * the router's.
 */
final class ConsumerRoutes {

  /** A listing's page, as JetStream's {@code CONSUMER.LIST} pages (256 infos). */
  private static final int DEFAULT_LIMIT = 256;
  private static final int MAX_LIMIT = 1000;

  private final ConsumerOperations consumers;
  private final int maxBodyBytes;

  /** {@code maxBodyBytes} bounds a create or pause request's body. */
  ConsumerRoutes(ConsumerOperations consumers, int maxBodyBytes) {
    this.consumers = consumers;
    this.maxBodyBytes = maxBodyBytes;
  }

  void mount(Router router) {
    router.get("/admin/consumers").handler(this::handleList);
    router.get("/admin/consumers/:stream/:name").handler(this::handleInfo);
    router.post("/admin/consumers/:stream").handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
        .handler(this::handleCreate);
    router.delete("/admin/consumers/:stream/:name").handler(this::handleDelete);
    router.post("/admin/consumers/:stream/:name/pause").handler(BodyHandler.create(false).setBodyLimit(maxBodyBytes))
        .handler(this::handlePause);
    router.post("/admin/consumers/:stream/:name/resume").handler(this::handleResume);
  }

  private void handleList(RoutingContext ctx) {
    Integer limit = AdminRequests.limit(ctx, DEFAULT_LIMIT, MAX_LIMIT);
    Integer offset = limit == null ? null : AdminRequests.within(ctx, "offset", 0, 0, Integer.MAX_VALUE);
    if (offset == null) {
      return;
    }
    String stream = ctx.request().getParam("stream");
    answer(ctx, () -> consumers.list(stream == null || stream.isEmpty() ? null : stream, offset, limit,
        Vertx.currentContext()).map(listing -> {
          JsonArray views = new JsonArray();
          listing.consumers().forEach(info -> views.add(ConsumerJson.view(info)));
          return new JsonObject().put("consumers", views).put("total", listing.total()).put("offset", offset)
              .put("limit", limit);
        }));
  }

  private void handleInfo(RoutingContext ctx) {
    answer(ctx, () -> consumers.info(ctx.pathParam("stream"), ctx.pathParam("name"), Vertx.currentContext())
        .map(ConsumerJson::view));
  }

  private void handleCreate(RoutingContext ctx) {
    answer(ctx, () -> {
      JsonObject config = ConsumerJson.jetStreamConfig(body(ctx));
      return consumers.create(ctx.pathParam("stream"), config, Vertx.currentContext()).map(info -> {
        ctx.response().setStatusCode(201);
        return ConsumerJson.view(info);
      });
    });
  }

  private void handleDelete(RoutingContext ctx) {
    String stream = ctx.pathParam("stream");
    String name = ctx.pathParam("name");
    answer(ctx, () -> consumers.delete(stream, name, Vertx.currentContext())
        .map(v -> new JsonObject().put("stream", stream).put("name", name).put("deleted", true)));
  }

  private void handlePause(RoutingContext ctx) {
    answer(ctx, () -> {
      long until = ConsumerJson.pauseUntilMs(body(ctx), System.currentTimeMillis());
      return consumers.pause(ctx.pathParam("stream"), ctx.pathParam("name"), until, Vertx.currentContext())
          .map(ConsumerJson::view);
    });
  }

  private void handleResume(RoutingContext ctx) {
    answer(ctx, () -> consumers.pause(ctx.pathParam("stream"), ctx.pathParam("name"), 0, Vertx.currentContext())
        .map(ConsumerJson::view));
  }

  private static JsonObject body(RoutingContext ctx) {
    String text = ctx.body().asString();
    if (text == null || text.isBlank()) {
      throw StreamError.invalid("invalid_json", "the body must be a JSON object");
    }
    try {
      return new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      throw StreamError.invalid("invalid_json", "the body must be a JSON object: " + e.getMessage());
    }
  }

  /** Answers with what {@code call} produces; a refusal thrown while building the call is answered too. */
  private static void answer(RoutingContext ctx, Supplier<Future<JsonObject>> call) {
    Future<JsonObject> answer;
    try {
      answer = call.get();
    } catch (StreamError e) {
      answer = Future.failedFuture(e);
    }
    answer.onSuccess(body -> AdminRequests.json(ctx, body.encode())).onFailure(failure -> fail(ctx, failure));
  }

  private static void fail(RoutingContext ctx, Throwable failure) {
    StreamError error = StreamError.from(failure);
    if (error.kind() != StreamError.Kind.NOT_FOUND) {
      AdminRequests.fail(ctx, failure);
    } else if (error.code().equals("consumer_not_found")) {
      HttpErrors.send(ctx.response(), 404, "not_found", "no consumer '" + ctx.pathParam("name") + "' on stream '"
          + ctx.pathParam("stream") + "'");
    } else {
      HttpErrors.send(ctx.response(), 404, "not_found", error.getMessage());
    }
  }
}
