package io.dstream.broker.durablestreams;

import io.dstream.pattern.TokenPattern;
import java.util.TreeSet;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.net.URISyntaxException;
import java.util.Locale;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The reserved subscription APIs of the protocol ({@code /v1/stream/__ds/subscriptions/{id}}): a
 * subscription follows streams (named, or matching a glob pattern) and, when one has messages past
 * its acknowledged offset, wakes a consumer: a signed webhook POST, or (pull-wake) an event appended
 * to a wake stream from which workers claim the wake. A wake carries a generation and a token;
 * acknowledgements of an older generation are fenced (409). The lease of a wake ends after
 * {@code lease_ttl_ms} without progress, and the next wake follows if work is pending.
 *
 * <p>Subscriptions, leases and the tails they compare against live in memory: they are lost on a
 * restart (docs/http.md). Tails are those of streams written since the broker started.
 *
 * <p>Thread-safety: every public method is {@code synchronized}; webhook calls and wake-stream
 * appends run outside the lock.
 */
final class Subscriptions {

  private static final Logger LOG = LoggerFactory.getLogger(Subscriptions.class);
  static final long DEFAULT_LEASE_TTL_MS = 30_000;
  static final long MIN_LEASE_TTL_MS = 1_000;
  static final long MAX_LEASE_TTL_MS = 600_000;
  private static final long MAX_RETRY_DELAY_MS = 60_000;
  private static final int MAX_WEBHOOK_ATTEMPTS = 20;
  static final int MAX_SUBSCRIPTIONS = 10_000;

  /** A subscription's answer: status and JSON body (null for 204). */
  record Reply(int status, JsonObject body) {
    static Reply error(int status, String code, String message) {
      return new Reply(status, new JsonObject().put("error", new JsonObject().put("code", code).put("message", message)));
    }
  }

  /** A validated create request. */
  record Definition(String type, String pattern, List<String> streams, String webhookUrl, String wakeStream,
                    long leaseTtlMs, String description) {
    boolean sameAs(Definition other) {
      return type.equals(other.type) && Objects.equals(pattern, other.pattern)
          && new TreeSet<>(streams).equals(new TreeSet<>(other.streams))
          && Objects.equals(webhookUrl, other.webhookUrl) && Objects.equals(wakeStream, other.wakeStream)
          && leaseTtlMs == other.leaseTtlMs && Objects.equals(description, other.description);
    }
  }

  /** One followed stream: how it is linked and how far it was acknowledged. */
  private static final class Link {
    final Set<String> linkTypes = new LinkedHashSet<>();
    String ackedOffset;

    Link(String ackedOffset) {
      this.ackedOffset = ackedOffset;
    }
  }

  private static final class Subscription {
    final String id;
    final Definition definition;
    final String baseUrl;
    final String createdAt;
    final Map<String, Link> streams = new LinkedHashMap<>();
    String status = "active";
    long generation;
    String wakeId;
    Map<String, String> wakeSnapshot = new LinkedHashMap<>();
    String token;
    String holder;
    long leaseTimer = -1;
    int attempts;

    Subscription(String id, Definition definition, String baseUrl, String createdAt) {
      this.id = id;
      this.definition = definition;
      this.baseUrl = baseUrl;
      this.createdAt = createdAt;
    }

    String tokenSubject() {
      return "subscription:" + id;
    }
  }

  private final Vertx vertx;
  private final StreamAccess access;
  private final WebhookSigner signer = new WebhookSigner();
  private final HttpClient webhooks;
  private final Map<String, Subscription> subscriptions = new LinkedHashMap<>();
  private final Map<String, Long> tails = new ConcurrentHashMap<>();

  Subscriptions(Vertx vertx, StreamAccess access) {
    this.vertx = vertx;
    this.access = access;
    this.webhooks = vertx.createHttpClient();
  }

  WebhookSigner signer() {
    return signer;
  }

  // ---- stream events --------------------------------------------------------------------------

  /** A stream was created or appended to (durably); wakes the subscriptions that follow it. */
  void streamWritten(String path, long tailPosition) {
    tails.put(path, tailPosition);
    if (path.startsWith("__ds/")) {
      return;
    }
    List<Runnable> deliveries = new ArrayList<>();
    synchronized (this) {
      for (Subscription subscription : subscriptions.values()) {
        String pattern = subscription.definition.pattern();
        if (pattern != null && TokenPattern.paths(pattern).matches(path)) {
          link(subscription, path, "glob", Offsets.BEFORE_START);
        }
        if (subscription.streams.containsKey(path)) {
          maybeWake(subscription, path, deliveries);
        }
      }
    }
    deliveries.forEach(Runnable::run);
  }

  /** A stream exists (created without messages): patterns of later subscriptions may match it. */
  void streamKnown(String path, long tailPosition) {
    tails.put(path, tailPosition);
  }

  synchronized void streamDeleted(String path) {
    tails.remove(path);
    subscriptions.values().forEach(subscription -> subscription.streams.remove(path));
  }

  // ---- management -----------------------------------------------------------------------------

  synchronized Reply createOrConfirm(String id, Definition definition, String baseUrl) {
    Subscription existing = subscriptions.get(id);
    if (existing != null) {
      if (!existing.definition.sameAs(definition)) {
        return Reply.error(409, "SUBSCRIPTION_ALREADY_EXISTS", "subscription already exists with a different configuration");
      }
      return new Reply(200, serialize(existing));
    }
    if (definition.webhookUrl() != null) {
      String rejected = webhookUrlProblem(definition.webhookUrl());
      if (rejected != null) {
        return Reply.error(400, "WEBHOOK_URL_REJECTED", rejected);
      }
    }
    if (subscriptions.size() >= MAX_SUBSCRIPTIONS) {
      return Reply.error(503, "TOO_MANY_SUBSCRIPTIONS", "the broker holds " + MAX_SUBSCRIPTIONS + " subscriptions");
    }
    Subscription subscription = new Subscription(id, definition, baseUrl, Instant.ofEpochMilli(access.now()).toString());
    for (String stream : definition.streams()) {
      link(subscription, stream, "explicit", tailOffset(stream));
    }
    if (definition.pattern() != null) {
      for (String stream : tails.keySet()) {
        if (!stream.startsWith("__ds/") && TokenPattern.paths(definition.pattern()).matches(stream)) {
          link(subscription, stream, "glob", tailOffset(stream));
        }
      }
    }
    subscriptions.put(id, subscription);
    return new Reply(201, serialize(subscription));
  }

  synchronized Reply get(String id) {
    Subscription subscription = subscriptions.get(id);
    return subscription == null ? notFound() : new Reply(200, serialize(subscription));
  }

  synchronized void delete(String id) {
    Subscription subscription = subscriptions.remove(id);
    if (subscription != null) {
      clearLease(subscription);
    }
  }

  synchronized Reply addStreams(String id, List<String> streams) {
    Subscription subscription = subscriptions.get(id);
    if (subscription == null) {
      return notFound();
    }
    streams.forEach(stream -> link(subscription, stream, "explicit", tailOffset(stream)));
    return new Reply(204, null);
  }

  synchronized Reply removeStream(String id, String stream) {
    Subscription subscription = subscriptions.get(id);
    if (subscription == null) {
      return notFound();
    }
    Link link = subscription.streams.get(stream);
    if (link != null) {
      link.linkTypes.remove("explicit");
      if (link.linkTypes.isEmpty()) {
        subscription.streams.remove(stream);
      }
    }
    return new Reply(204, null);
  }

  // ---- wakes ----------------------------------------------------------------------------------

  /** Webhook callback ({@code done} ends the wake) and pull-wake ack share the rules. */
  Reply acknowledge(String id, String token, JsonObject request, boolean pullWake) {
    List<Runnable> deliveries = new ArrayList<>();
    Reply reply;
    synchronized (this) {
      Subscription subscription = subscriptions.get(id);
      if (subscription == null) {
        return notFound();
      }
      if (pullWake && !"pull-wake".equals(subscription.definition.type())) {
        return Reply.error(400, "INVALID_REQUEST", "subscription is not pull-wake");
      }
      Reply refused = fence(subscription, token, request);
      if (refused == null) {
        refused = applyAcks(subscription, request.getJsonArray("acks"));
      }
      if (refused != null) {
        return refused;
      }
      extendLease(subscription);
      boolean nextWake = false;
      if (Boolean.TRUE.equals(request.getValue("done"))) {
        endWake(subscription);
        nextWake = triggerNextWake(subscription, deliveries);
      }
      reply = new Reply(200, new JsonObject().put("ok", true).put("next_wake", nextWake));
    }
    deliveries.forEach(Runnable::run);
    return reply;
  }

  Reply claim(String id, String worker) {
    List<Runnable> deliveries = new ArrayList<>();
    Reply reply;
    synchronized (this) {
      Subscription subscription = subscriptions.get(id);
      if (subscription == null) {
        return notFound();
      }
      if (!"pull-wake".equals(subscription.definition.type())) {
        return Reply.error(400, "INVALID_REQUEST", "subscription is not pull-wake");
      }
      if (subscription.holder != null) {
        Reply busy = Reply.error(409, "ALREADY_CLAIMED", "another worker holds the wake");
        busy.body().getJsonObject("error").put("current_holder", subscription.holder)
            .put("generation", subscription.generation);
        return busy;
      }
      String pending = firstPending(subscription);
      if (pending == null) {
        return Reply.error(409, "NO_PENDING_WORK", "subscription has no pending work");
      }
      if (subscription.wakeId == null) {
        createWake(subscription, pending, deliveries);
      }
      subscription.holder = worker;
      subscription.token = signer.token(subscription.tokenSubject(), subscription.generation, access.now());
      extendLease(subscription);
      reply = new Reply(200, new JsonObject().put("wake_id", subscription.wakeId)
          .put("generation", subscription.generation).put("token", subscription.token)
          .put("streams", streamInfos(subscription)).put("lease_ttl_ms", subscription.definition.leaseTtlMs()));
    }
    deliveries.forEach(Runnable::run);
    return reply;
  }

  Reply release(String id, String token, JsonObject request) {
    List<Runnable> deliveries = new ArrayList<>();
    synchronized (this) {
      Subscription subscription = subscriptions.get(id);
      if (subscription == null) {
        return notFound();
      }
      if (!"pull-wake".equals(subscription.definition.type())) {
        return Reply.error(400, "INVALID_REQUEST", "subscription is not pull-wake");
      }
      Reply refused = fence(subscription, token, request);
      if (refused != null) {
        return refused;
      }
      endWake(subscription);
      triggerNextWake(subscription, deliveries);
    }
    deliveries.forEach(Runnable::run);
    return new Reply(204, null);
  }

  private Reply fence(Subscription subscription, String token, JsonObject request) {
    WebhookSigner.TokenCheck check = signer.check(token, subscription.tokenSubject(), access.now());
    if (!check.valid()) {
      return Reply.error(401, check.code(), check.code().equals("TOKEN_EXPIRED") ? "token expired" : "token invalid");
    }
    Object generation = request.getValue("generation");
    boolean sameGeneration = generation instanceof Number number && number.longValue() == subscription.generation;
    if (check.epoch() != subscription.generation || !sameGeneration
        || !Objects.equals(request.getValue("wake_id"), subscription.wakeId)) {
      return Reply.error(409, "FENCED", "wake generation is stale");
    }
    return null;
  }

  private Reply applyAcks(Subscription subscription, JsonArray acks) {
    if (acks == null) {
      return null;
    }
    Map<String, String> accepted = new LinkedHashMap<>();
    for (Object item : acks) {
      if (!(item instanceof JsonObject ack) || !(ack.getValue("offset") instanceof String offset)) {
        return Reply.error(409, "INVALID_OFFSET", "an ack needs a stream and an offset");
      }
      String stream = StreamPaths.normalize(ack.getString("stream", ack.getString("path", "")));
      Link link = subscription.streams.get(stream);
      if (stream.isEmpty() || link == null) {
        return Reply.error(409, "INVALID_OFFSET", "ack names a stream the subscription does not follow");
      }
      if (offset.equals(Offsets.BEFORE_START) || offset.compareTo(link.ackedOffset) < 0) {
        return Reply.error(409, "INVALID_OFFSET", "ack offset regresses the committed cursor");
      }
      if (offset.compareTo(tailOffset(stream)) > 0) {
        return Reply.error(409, "INVALID_OFFSET", "ack offset is beyond the stream's tail");
      }
      accepted.put(stream, offset);
    }
    accepted.forEach((stream, offset) -> subscription.streams.get(stream).ackedOffset = offset);
    return null;
  }

  private void maybeWake(Subscription subscription, String triggeredBy, List<Runnable> deliveries) {
    if (subscription.wakeId != null || subscription.holder != null || firstPending(subscription) == null) {
      return;
    }
    createWake(subscription, triggeredBy, deliveries);
  }

  private boolean triggerNextWake(Subscription subscription, List<Runnable> deliveries) {
    String pending = firstPending(subscription);
    if (pending == null) {
      return false;
    }
    createWake(subscription, pending, deliveries);
    return true;
  }

  private void createWake(Subscription subscription, String triggeredBy, List<Runnable> deliveries) {
    subscription.generation++;
    subscription.wakeId = signer.wakeId();
    subscription.wakeSnapshot = new LinkedHashMap<>();
    subscription.streams.keySet().forEach(stream -> subscription.wakeSnapshot.put(stream, tailOffset(stream)));
    if ("webhook".equals(subscription.definition.type())) {
      subscription.token = signer.token(subscription.tokenSubject(), subscription.generation, access.now());
      extendLease(subscription);
      String body = new JsonObject().put("subscription_id", subscription.id).put("wake_id", subscription.wakeId)
          .put("generation", subscription.generation).put("streams", streamInfos(subscription))
          .put("callback_url", actionUrl(subscription, "callback")).put("callback_token", subscription.token).encode();
      long generation = subscription.generation;
      deliveries.add(() -> deliver(subscription, generation, body));
      return;
    }
    JsonObject event = new JsonObject().put("type", "wake").put("subscription_id", subscription.id)
        .put("stream", triggeredBy).put("generation", subscription.generation).put("ts", access.now());
    String wakeStream = subscription.definition.wakeStream();
    deliveries.add(() -> access.appendJson(wakeStream, event, vertx.getOrCreateContext()).onSuccess(tail -> streamWritten(wakeStream, tail))
        .onFailure(e -> LOG.warn("wake event for subscription '{}' not written to '{}': {}", subscription.id,
            wakeStream, e.getMessage())));
  }

  /** POSTs a wake to the webhook; a 2xx answer {@code {"done":true}} acknowledges the whole wake. */
  private void deliver(Subscription subscription, long generation, String body) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST)
        .setAbsoluteURI(subscription.definition.webhookUrl())
        .putHeader("Content-Type", "application/json")
        .putHeader("webhook-signature", signer.sign(body, access.now()))
        .setTimeout(10_000);
    webhooks.request(options).compose(request -> request.send(Buffer.buffer(body)))
        .compose(response -> response.body().map(answer -> {
          if (response.statusCode() / 100 != 2) {
            throw new IllegalStateException("webhook answered " + response.statusCode());
          }
          return answer;
        }))
        .onSuccess(answer -> delivered(subscription, generation, answer))
        .onFailure(failure -> retry(subscription, generation, body, failure));
  }

  private void delivered(Subscription subscription, long generation, Buffer answer) {
    List<Runnable> deliveries = new ArrayList<>();
    synchronized (this) {
      subscription.status = "active";
      subscription.attempts = 0;
      if (subscription.generation != generation || subscriptions.get(subscription.id) != subscription) {
        return;
      }
      boolean done;
      try {
        done = Boolean.TRUE.equals(answer.length() == 0 ? null : answer.toJsonObject().getValue("done"));
      } catch (RuntimeException notJson) {
        done = false;
      }
      if (done) {
        subscription.wakeSnapshot.forEach((stream, tail) -> {
          Link link = subscription.streams.get(stream);
          if (link != null) {
            link.ackedOffset = tail;
          }
        });
        endWake(subscription);
        triggerNextWake(subscription, deliveries);
      }
    }
    deliveries.forEach(Runnable::run);
  }

  private void retry(Subscription subscription, long generation, String body, Throwable failure) {
    long delay;
    synchronized (this) {
      if (subscription.generation != generation || subscriptions.get(subscription.id) != subscription) {
        return;
      }
      subscription.status = "failed";
      subscription.attempts++;
      if (subscription.attempts >= MAX_WEBHOOK_ATTEMPTS) {
        LOG.warn("webhook of subscription '{}' failed {} times; giving up on this wake: {}", subscription.id,
            subscription.attempts, failure.getMessage());
        return;
      }
      delay = Math.min(1000L << Math.min(16, subscription.attempts - 1), MAX_RETRY_DELAY_MS);
    }
    vertx.setTimer(delay, t -> deliver(subscription, generation, body));
  }

  private void endWake(Subscription subscription) {
    clearLease(subscription);
    subscription.token = null;
    subscription.holder = null;
    subscription.wakeId = null;
    subscription.wakeSnapshot = new LinkedHashMap<>();
  }

  private void extendLease(Subscription subscription) {
    clearLease(subscription);
    subscription.leaseTimer = vertx.setTimer(subscription.definition.leaseTtlMs(), t -> leaseExpired(subscription));
  }

  private void leaseExpired(Subscription subscription) {
    List<Runnable> deliveries = new ArrayList<>();
    synchronized (this) {
      subscription.leaseTimer = -1;
      if (subscriptions.get(subscription.id) != subscription) {
        return;
      }
      endWake(subscription);
      triggerNextWake(subscription, deliveries);
    }
    deliveries.forEach(Runnable::run);
  }

  private void clearLease(Subscription subscription) {
    if (subscription.leaseTimer >= 0) {
      vertx.cancelTimer(subscription.leaseTimer);
      subscription.leaseTimer = -1;
    }
  }

  // ---- views ----------------------------------------------------------------------------------

  private void link(Subscription subscription, String stream, String type, String ackedOffset) {
    subscription.streams.computeIfAbsent(stream, s -> new Link(ackedOffset)).linkTypes.add(type);
  }

  private String tailOffset(String stream) {
    return Offsets.format(tails.getOrDefault(stream, 0L));
  }

  private String firstPending(Subscription subscription) {
    for (Map.Entry<String, Link> entry : subscription.streams.entrySet()) {
      if (tailOffset(entry.getKey()).compareTo(entry.getValue().ackedOffset) > 0) {
        return entry.getKey();
      }
    }
    return null;
  }

  private JsonArray streamInfos(Subscription subscription) {
    JsonArray infos = new JsonArray();
    subscription.streams.forEach((stream, link) -> {
      String tail = tailOffset(stream);
      infos.add(new JsonObject().put("path", stream)
          .put("link_type", link.linkTypes.contains("explicit") ? "explicit" : "glob")
          .put("acked_offset", link.ackedOffset).put("tail_offset", tail)
          .put("has_pending", tail.compareTo(link.ackedOffset) > 0));
    });
    return infos;
  }

  private JsonObject serialize(Subscription subscription) {
    Definition definition = subscription.definition;
    JsonArray streams = new JsonArray();
    subscription.streams.forEach((stream, link) -> streams.add(new JsonObject().put("path", stream)
        .put("link_type", link.linkTypes.contains("explicit") ? "explicit" : "glob")
        .put("acked_offset", link.ackedOffset)));
    JsonObject json = new JsonObject().put("id", subscription.id).put("subscription_id", subscription.id)
        .put("type", definition.type()).put("streams", streams).put("lease_ttl_ms", definition.leaseTtlMs())
        .put("created_at", subscription.createdAt).put("status", subscription.status);
    if (definition.pattern() != null) {
      json.put("pattern", definition.pattern());
    }
    if (definition.webhookUrl() != null) {
      json.put("webhook", new JsonObject().put("url", definition.webhookUrl()).put("signing", new JsonObject()
          .put("alg", "ed25519").put("kid", signer.kid())
          .put("jwks_url", subscription.baseUrl + DurableStreamsApi.PREFIX + "__ds/jwks.json")));
    }
    if (definition.wakeStream() != null) {
      json.put("wake_stream", definition.wakeStream());
    }
    if (definition.description() != null) {
      json.put("description", definition.description());
    }
    return json;
  }

  private static String actionUrl(Subscription subscription, String action) {
    return subscription.baseUrl + DurableStreamsApi.PREFIX + "__ds/subscriptions/"
        + URLEncoder.encode(subscription.id, StandardCharsets.UTF_8).replace("+", "%20")
        + "/" + action;
  }

  private static Reply notFound() {
    return Reply.error(404, "SUBSCRIPTION_NOT_FOUND", "subscription not found");
  }

  /**
   * Null if the broker may call {@code url}: https to a public host, or plain http to this machine
   * (development). Private, link-local and IPv6 literal hosts are refused, so a subscription cannot
   * make the broker probe an internal network.
   */
  static String webhookUrlProblem(String url) {
    URI uri;
    try {
      uri = new URI(url);
    } catch (URISyntaxException e) {
      return "webhook.url must be a valid URL";
    }
    String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
    boolean loopback = host.equals("localhost") || host.matches("127\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}");
    if ("http".equalsIgnoreCase(uri.getScheme())) {
      return loopback ? null : "http webhook URLs are only allowed for localhost or 127.0.0.x";
    }
    if (!"https".equalsIgnoreCase(uri.getScheme()) || host.isEmpty()) {
      return "webhook.url must use https";
    }
    if (host.equals("localhost")) {
      return "localhost webhook URLs must use http";
    }
    if (host.startsWith("[") || host.contains(":")) {
      return "IPv6 webhook hosts are not accepted";
    }
    if (host.matches("\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}\\.\\d{1,3}")) {
      String[] parts = host.split("\\.");
      int a = Integer.parseInt(parts[0]);
      int b = Integer.parseInt(parts[1]);
      if (a == 10 || a == 127 || a == 0 || a == 172 && b >= 16 && b <= 31 || a == 192 && b == 168
          || a == 169 && b == 254) {
        return "webhook.url must not target private or link-local hosts";
      }
    }
    return null;
  }
}
