package io.dstream.broker.durablestreams;

import java.util.Arrays;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.http.PathSegments;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;

/**
 * The reserved control routes under {@code /v1/stream/__ds/}: {@code jwks.json} and
 * {@code subscriptions/{id}} with {@code /streams}, {@code /streams/{path}}, {@code /callback},
 * {@code /claim}, {@code /ack} and {@code /release} (see {@link Subscriptions}).
 */
final class SubscriptionRoutes {

  static final String CONTROL = "__ds";
  private static final String SUBSCRIPTIONS = "subscriptions";

  private final Subscriptions subscriptions;

  SubscriptionRoutes(Subscriptions subscriptions) {
    this.subscriptions = subscriptions;
  }

  void handle(RoutingContext ctx, String rawPath) {
    HttpServerRequest request = ctx.request();
    HttpServerResponse response = ctx.response();
    String[] parts = rawPath.split("/", -1);
    String method = request.method().name();
    if (parts.length == 2 && parts[1].equals("jwks.json")) {
      if (!method.equals("GET")) {
        HttpErrors.send(response, 405, "method_not_allowed", "jwks.json is read-only");
        return;
      }
      response.putHeader("Content-Type", "application/jwk-set+json").putHeader("Cache-Control", "public, max-age=300")
          .end(subscriptions.signer().jwks().encode());
      return;
    }
    if (parts.length < 3 || !parts[1].equals(SUBSCRIPTIONS) || parts[2].isEmpty()) {
      HttpErrors.send(response, 404, "SUBSCRIPTION_NOT_FOUND", "Durable Streams control route not found");
      return;
    }
    String id = PathSegments.decode(parts[2]);
    JsonObject body;
    try {
      body = ctx.body() == null || ctx.body().length() <= 0 ? new JsonObject() : ctx.body().asJsonObject();
    } catch (DecodeException | ClassCastException e) {
      HttpErrors.send(response, 400, "INVALID_REQUEST", "invalid JSON body");
      return;
    }
    if (parts.length == 3) {
      handleSubscription(ctx, id, method, body);
      return;
    }
    String action = parts[3];
    Subscriptions.Reply reply;
    if (action.equals("streams") && parts.length == 4 && method.equals("POST")) {
      reply = addStreams(id, body);
    } else if (action.equals("streams") && parts.length > 4 && method.equals("DELETE")) {
      String joined = String.join("/", Arrays.copyOfRange(parts, 4, parts.length));
      reply = subscriptions.removeStream(id, StreamPaths.normalize(PathSegments.decode(joined)));
    } else if (parts.length == 4 && method.equals("POST") && action.equals("claim")) {
      Object worker = body.getValue("worker");
      reply = worker instanceof String name && !name.isEmpty() ? subscriptions.claim(id, name)
          : Subscriptions.Reply.error(400, "INVALID_REQUEST", "worker must be a non-empty string");
    } else if (parts.length == 4 && method.equals("POST") && List.of("callback", "ack", "release").contains(action)) {
      String token = bearer(request);
      if (token == null) {
        reply = Subscriptions.Reply.error(401, "TOKEN_INVALID", "missing or malformed Authorization header");
      } else if (action.equals("release")) {
        reply = subscriptions.release(id, token, body);
      } else {
        reply = subscriptions.acknowledge(id, token, body, action.equals("ack"));
      }
    } else {
      reply = Subscriptions.Reply.error(404, "SUBSCRIPTION_NOT_FOUND", "Durable Streams control route not found");
    }
    send(response, reply);
  }

  private void handleSubscription(RoutingContext ctx, String id, String method, JsonObject body) {
    HttpServerResponse response = ctx.response();
    switch (method) {
      case "PUT" -> {
        Object parsed = definition(body);
        if (parsed instanceof String problem) {
          send(response, Subscriptions.Reply.error(400, "INVALID_REQUEST", problem));
          return;
        }
        HttpServerRequest request = ctx.request();
        send(response, subscriptions.createOrConfirm(id, (Subscriptions.Definition) parsed,
            request.scheme() + "://" + request.authority()));
      }
      case "GET" -> send(response, subscriptions.get(id));
      case "DELETE" -> {
        subscriptions.delete(id);
        response.setStatusCode(204).end();
      }
      default -> HttpErrors.send(response, 405, "method_not_allowed", "method not allowed on a subscription");
    }
  }

  private Subscriptions.Reply addStreams(String id, JsonObject body) {
    JsonArray streams = body.getValue("streams") instanceof JsonArray array ? array : null;
    if (streams == null || streams.isEmpty() || streams.stream().anyMatch(s -> !(s instanceof String text) || text.isEmpty())) {
      return Subscriptions.Reply.error(400, "INVALID_REQUEST", "streams must be a non-empty string array");
    }
    List<String> paths = new ArrayList<>();
    streams.forEach(s -> paths.add(StreamPaths.normalize((String) s)));
    return subscriptions.addStreams(id, paths);
  }

  /** The validated definition, or a message saying what is wrong. */
  private static Object definition(JsonObject body) {
    Object type = body.getValue("type");
    if (!"webhook".equals(type) && !"pull-wake".equals(type)) {
      return "type must be \"webhook\" or \"pull-wake\"";
    }
    String pattern = body.getValue("pattern") instanceof String p && !p.isEmpty() ? StreamPaths.normalize(p) : null;
    List<String> streams = new ArrayList<>();
    if (body.getValue("streams") instanceof JsonArray array) {
      for (Object stream : array) {
        if (!(stream instanceof String path)) {
          return "streams must contain only strings";
        }
        streams.add(StreamPaths.normalize(path));
      }
    }
    if (pattern == null && streams.isEmpty()) {
      return "at least one of pattern or streams is required";
    }
    Object lease = body.getValue("lease_ttl_ms", Subscriptions.DEFAULT_LEASE_TTL_MS);
    if (!(lease instanceof Integer || lease instanceof Long) || ((Number) lease).longValue() < Subscriptions.MIN_LEASE_TTL_MS
        || ((Number) lease).longValue() > Subscriptions.MAX_LEASE_TTL_MS) {
      return "lease_ttl_ms must be an integer from 1000 to 600000";
    }
    String webhookUrl = null;
    if ("webhook".equals(type)) {
      Object url = body.getValue("webhook") instanceof JsonObject webhook ? webhook.getValue("url") : null;
      if (!(url instanceof String text) || text.isEmpty()) {
        return "webhook subscriptions require webhook.url";
      }
      webhookUrl = text;
    }
    String wakeStream = body.getValue("wake_stream") instanceof String w && !w.isEmpty() ? StreamPaths.normalize(w) : null;
    if ("pull-wake".equals(type) && wakeStream == null) {
      return "pull-wake subscriptions require wake_stream";
    }
    String description = body.getValue("description") instanceof String d ? d : null;
    return new Subscriptions.Definition((String) type, pattern, streams, webhookUrl, wakeStream,
        ((Number) lease).longValue(), description);
  }

  private static String bearer(HttpServerRequest request) {
    String authorization = request.getHeader("Authorization");
    return authorization != null && authorization.startsWith("Bearer ") ? authorization.substring(7) : null;
  }

  private static void send(HttpServerResponse response, Subscriptions.Reply reply) {
    if (reply.body() == null) {
      response.setStatusCode(reply.status()).end();
      return;
    }
    response.setStatusCode(reply.status()).putHeader("Content-Type", "application/json").end(reply.body().encode());
  }
}
