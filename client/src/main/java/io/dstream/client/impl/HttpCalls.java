package io.dstream.client.impl;

import io.dstream.client.AuthenticationException;
import io.dstream.client.ClientOptions;
import io.dstream.client.StreamException;
import io.vertx.core.Future;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.net.ConnectException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpConnectTimeoutException;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The broker's plain HTTP routes as seen from the client ({@code /r2/} files, {@code /admin/}), over
 * the JDK's HTTP client: base URL and prefix, the API key as {@code Authorization: Bearer}, and the
 * broker's JSON errors turned into {@link StreamException}s (401 into {@link AuthenticationException}).
 * Thread-safe. Public for the CLI only; not part of the library's API.
 */
public final class HttpCalls implements AutoCloseable {

  private final HttpClient http;
  private final ExecutorService executor;
  private final String base;
  private final ClientOptions options;

  public HttpCalls(ClientOptions options) {
    this.options = options;
    this.executor = Executors.newCachedThreadPool(runnable -> {
      Thread thread = new Thread(runnable, "dstream-http");
      thread.setDaemon(true);
      return thread;
    });
    HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(options.connectTimeout()).executor(executor);
    if (options.trustedCertificates() != null) {
      builder.sslContext(TrustedCertificates.sslContext(options.trustedCertificates()));
    }
    this.http = builder.build();
    URI url = options.url();
    String scheme = url.getScheme().toLowerCase(Locale.ROOT);
    String httpScheme = scheme.equals("wss") || scheme.equals("https") ? "https" : "http";
    String prefix = url.getRawPath() == null ? "" : url.getRawPath().replaceAll("/+$", "");
    this.base = httpScheme + "://" + url.getRawAuthority() + prefix;
  }

  /** @return the broker's base URL, for messages */
  public String base() {
    return base;
  }

  /** @return a request builder for {@code pathAndQuery} (already percent-encoded), with credentials */
  public HttpRequest.Builder request(String pathAndQuery) {
    HttpRequest.Builder builder = HttpRequest.newBuilder(URI.create(base + pathAndQuery));
    if (options.apiKey() != null) {
      builder.header("Authorization", "Bearer " + options.apiKey());
    }
    if (!options.requestTimeout().isZero()) {
      builder.timeout(options.requestTimeout());
    }
    return builder;
  }

  /** @return the executor for blocking work that follows a response (copying bodies) */
  public ExecutorService executor() {
    return executor;
  }

  /** Sends a request; transport failures become {@link StreamException}s. */
  public <T> CompletableFuture<HttpResponse<T>> send(HttpRequest request, HttpResponse.BodyHandler<T> handler) {
    return http.sendAsync(request, handler).handle((response, failure) -> {
      if (failure != null) {
        throw new CompletionException(transportFailure(request, unwrap(failure)));
      }
      return response;
    });
  }

  /** GETs a JSON object; a non-2xx status fails with the broker's error. */
  public CompletableFuture<JsonObject> getJson(String pathAndQuery) {
    return json("GET", pathAndQuery, HttpRequest.BodyPublishers.noBody());
  }

  /** Sends a request whose answer is a JSON object; a non-2xx status fails with the broker's error. */
  public CompletableFuture<JsonObject> json(String method, String pathAndQuery, HttpRequest.BodyPublisher body) {
    HttpRequest request = request(pathAndQuery).header("Accept", "application/json").method(method, body).build();
    return send(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
      if (response.statusCode() / 100 != 2) {
        throw failure(response.statusCode(), response.body(), method + " " + pathAndQuery);
      }
      try {
        return new JsonObject(response.body());
      } catch (DecodeException e) {
        throw new StreamException(StreamException.BAD_FRAME, method + " " + pathAndQuery + " answered no JSON object", e);
      }
    });
  }

  /** @return a Vert.x future of {@code stage}, failing with the real cause rather than a {@link CompletionException} */
  public static <T> Future<T> future(CompletionStage<T> stage) {
    return Future.fromCompletionStage(stage).recover(failure -> Future.failedFuture(unwrap(failure)));
  }

  /** @return the exception for an error status; the code is the broker's, or {@code http_STATUS} */
  public static StreamException failure(int status, String body, String what) {
    JsonObject error = null;
    try {
      Object value = body == null || body.isEmpty() ? null : new JsonObject(body).getValue("error");
      error = value instanceof JsonObject object ? object : null;
    } catch (DecodeException | ClassCastException e) {
      error = null;
    }
    String fallback = status == 404 ? "not_found" : "http_" + status;
    String code = error != null ? error.getString("code", fallback) : fallback;
    String detail = error != null ? error.getString("message", "") : "";
    String message = what + " failed with HTTP " + status + (detail.isEmpty() ? "" : ": " + detail);
    return status == 401 ? new AuthenticationException(code, message) : new StreamException(code, message);
  }

  /** @return the cause a {@link CompletableFuture} wrapped */
  public static Throwable unwrap(Throwable failure) {
    Throwable cause = failure;
    while (cause instanceof CompletionException && cause.getCause() != null) {
      cause = cause.getCause();
    }
    return cause;
  }

  private StreamException transportFailure(HttpRequest request, Throwable cause) {
    if (cause instanceof StreamException stream) {
      return stream;
    }
    String where = request.method() + " " + request.uri().getRawPath();
    if (cause instanceof HttpConnectTimeoutException || cause instanceof ConnectException) {
      String reason = cause.getMessage() == null || cause.getMessage().isBlank() ? "connection refused" : cause.getMessage();
      return new StreamException(StreamException.CONNECT_FAILED, "cannot connect to " + base + " for " + where + " ("
          + reason + ")", cause);
    }
    if (cause instanceof HttpTimeoutException) {
      return new StreamException(StreamException.REQUEST_TIMEOUT, where + " got no answer in time", cause);
    }
    if (cause instanceof IOException) {
      return new StreamException(StreamException.TRANSPORT_ERROR, where + " failed: " + cause.getMessage(), cause);
    }
    return new StreamException(StreamException.TRANSPORT_ERROR, where + " failed: " + cause, cause);
  }

  @Override
  public void close() {
    executor.shutdownNow();
  }
}
