package io.dstream.broker.admin;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.retention.EffectiveLimits;
import io.dstream.broker.retention.Limits;
import io.dstream.broker.retention.Retention;
import io.dstream.broker.retention.RetentionRules;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;

/**
 * The retention rules (docs/admin.md, docs/consumers-and-retention.md): {@code GET /admin/retention}
 * lists the broker-wide default and the rules in precedence order, {@code PUT} and {@code DELETE
 * /admin/retention/{pattern}} set and remove one rule, answering once the change is durable and in
 * force. Runs on the request's event loop.
 */
final class RetentionRoutes {

  /** A rule is a few numbers; anything longer is not one. */
  private static final int MAX_BODY_BYTES = 4096;

  private final Retention retention;

  RetentionRoutes(Retention retention) {
    this.retention = retention;
  }

  void mount(Router router) {
    router.get("/admin/retention").handler(this::handleList);
    router.put("/admin/retention/:pattern").handler(BodyHandler.create(false).setBodyLimit(MAX_BODY_BYTES))
        .handler(this::handlePut);
    router.delete("/admin/retention/:pattern").handler(this::handleDelete);
  }

  /** The limits of a subject and their rule, as {@code GET /admin/subjects/{subject}} shows them. */
  JsonObject limits(String subject) {
    EffectiveLimits effective = retention.effective(subject);
    return effective.limits().toJson().put("rule", effective.rule());
  }

  private void handleList(RoutingContext ctx) {
    AdminRequests.json(ctx, listing(retention.current()).encode());
  }

  private static JsonObject listing(RetentionRules rules) {
    return new JsonObject().put("default", rules.defaults().toJson()).put("rules", rules.rulesJson());
  }

  private void handlePut(RoutingContext ctx) {
    String pattern = ctx.pathParam("pattern");
    Buffer body = ctx.body().buffer();
    Limits limits;
    try {
      Object parsed = body == null || body.length() == 0 ? null : Json.decodeValue(body);
      if (!(parsed instanceof JsonObject json)) {
        HttpErrors.send(ctx.response(), 400, "invalid_limits", "the body must be a JSON object of limits: "
            + "{\"maxAgeMs\",\"maxMessages\",\"maxBytes\",\"maxMessageSize\",\"discard\"}");
        return;
      }
      limits = Limits.fromJson(json);
    } catch (DecodeException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_json", "the body is not JSON: " + e.getMessage().lines().findFirst().orElse(""));
      return;
    } catch (IllegalArgumentException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_limits", e.getMessage());
      return;
    }
    retention.put(pattern, limits, Vertx.currentContext())
        .onSuccess(rules -> AdminRequests.json(ctx, new JsonObject().put("pattern", pattern)
            .mergeIn(rules.rule(pattern).limits().toJson()).encode()))
        .onFailure(failure -> AdminRequests.fail(ctx, failure));
  }

  private void handleDelete(RoutingContext ctx) {
    String pattern = ctx.pathParam("pattern");
    retention.remove(pattern, Vertx.currentContext())
        .onSuccess(rules -> AdminRequests.json(ctx, new JsonObject().put("pattern", pattern).put("deleted", true).encode()))
        .onFailure(failure -> AdminRequests.fail(ctx, failure));
  }
}
