package io.dstream.client.impl;

import io.dstream.client.AdminClient;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

/** {@link AdminClient} over the JDK HTTP client ({@link HttpCalls}). Thread-safe. */
public final class AdminClientImpl implements AdminClient {

  private final HttpCalls calls;

  /** @param calls the broker's HTTP routes; closed with this client */
  public AdminClientImpl(HttpCalls calls) {
    this.calls = calls;
  }

  @Override
  public Future<JsonObject> subjects(String prefix, String cursor, int limit) {
    String query = "/admin/subjects?limit=" + limit + (prefix == null ? "" : "&prefix=" + encode(prefix))
        + (cursor == null ? "" : "&cursor=" + encode(cursor));
    return HttpCalls.future(calls.getJson(query));
  }

  @Override
  public Future<JsonObject> subject(String subject) {
    return HttpCalls.future(calls.getJson(path(subject)));
  }

  @Override
  public Future<JsonObject> messages(String subject, long from, int limit) {
    return HttpCalls.future(calls.getJson(path(subject) + "/messages?from=" + from + "&limit=" + limit));
  }

  @Override
  public Future<JsonObject> state(String subject) {
    return subject(subject).map(detail -> detail.getJsonObject("state", new JsonObject()));
  }

  @Override
  public Future<JsonObject> putState(String subject, JsonObject state) {
    return HttpCalls.future(calls.json("PUT", path(subject) + "/state",
        HttpRequest.BodyPublishers.ofString(state.encode())));
  }

  @Override
  public Future<JsonObject> deleteMessages(String subject, long upToSequence) {
    return HttpCalls.future(calls.json("DELETE", path(subject) + "/messages?upTo=" + upToSequence,
        HttpRequest.BodyPublishers.noBody()));
  }

  @Override
  public Future<Void> deleteSubject(String subject) {
    String path = "/stream/" + encode(subject);
    HttpRequest request = calls.request(path).DELETE().build();
    return HttpCalls.future(calls.send(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
      if (response.statusCode() / 100 != 2) {
        throw HttpCalls.failure(response.statusCode(), response.body(), "DELETE " + path);
      }
      return null;
    }));
  }

  @Override
  public Future<JsonObject> consumers(String stream) {
    return HttpCalls.future(calls.getJson("/admin/consumers" + (stream == null ? "" : "?stream=" + encode(stream))));
  }

  @Override
  public Future<JsonObject> consumer(String stream, String name) {
    return HttpCalls.future(calls.getJson(consumerPath(stream, name)));
  }

  @Override
  public Future<JsonObject> addConsumer(String stream, JsonObject config) {
    return HttpCalls.future(calls.json("POST", "/admin/consumers/" + encode(stream),
        HttpRequest.BodyPublishers.ofString(config.encode())));
  }

  @Override
  public Future<Void> deleteConsumer(String stream, String name) {
    return HttpCalls.future(calls.json("DELETE", consumerPath(stream, name), HttpRequest.BodyPublishers.noBody()))
        .mapEmpty();
  }

  @Override
  public Future<JsonObject> pauseConsumer(String stream, String name, Duration duration) {
    return pause(stream, name, new JsonObject().put("forMs", duration.toMillis()));
  }

  @Override
  public Future<JsonObject> pauseConsumer(String stream, String name, Instant until) {
    return pause(stream, name, new JsonObject().put("until", until.toString()));
  }

  private Future<JsonObject> pause(String stream, String name, JsonObject body) {
    return HttpCalls.future(calls.json("POST", consumerPath(stream, name) + "/pause",
        HttpRequest.BodyPublishers.ofString(body.encode())));
  }

  @Override
  public Future<JsonObject> resumeConsumer(String stream, String name) {
    return HttpCalls.future(calls.json("POST", consumerPath(stream, name) + "/resume",
        HttpRequest.BodyPublishers.noBody()));
  }

  private static String consumerPath(String stream, String name) {
    return "/admin/consumers/" + encode(stream) + "/" + encode(name);
  }

  @Override
  public Future<JsonObject> retention() {
    return HttpCalls.future(calls.getJson("/admin/retention"));
  }

  @Override
  public Future<JsonObject> putRetention(String pattern, JsonObject limits) {
    return HttpCalls.future(calls.json("PUT", "/admin/retention/" + encode(pattern),
        HttpRequest.BodyPublishers.ofString(limits.encode())));
  }

  @Override
  public Future<Void> deleteRetention(String pattern) {
    return HttpCalls.future(calls.json("DELETE", "/admin/retention/" + encode(pattern),
        HttpRequest.BodyPublishers.noBody())).mapEmpty();
  }

  @Override
  public Future<JsonObject> cluster() {
    return HttpCalls.future(calls.getJson("/admin/cluster"));
  }

  @Override
  public Future<JsonObject> placement(String subject) {
    return HttpCalls.future(calls.getJson("/admin/cluster/subject/" + encode(subject)));
  }

  @Override
  public void close() {
    calls.close();
  }

  private static String path(String subject) {
    return "/admin/subjects/" + encode(subject);
  }

  /** Percent-encodes a path segment or query value ({@code +} would read as a space in neither). */
  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
