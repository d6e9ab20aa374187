package io.dstream.broker.files;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Plain HTTP calls to {@code /r2}, shaped like the original client's fetch calls. Every call starts
 * on one event-loop context: called from the test thread, each call got a new context while its
 * pooled keep-alive connection stayed on another event loop, and the response's body handler was
 * then attached by a task on the other loop, racing the body's arrival (an answer with a
 * Content-Length but an empty body, about once per full test run).
 */
final class FileClient implements AutoCloseable {

  /** A whole answer. */
  record Answer(int status, MultiMap headers, Buffer body) {
    String text() {
      return body.toString();
    }

    JsonObject json() {
      try {
        return new JsonObject(body);
      } catch (RuntimeException e) {
        throw new AssertionError("status " + status + " with a body that is not JSON: '" + body + "' " + headers, e);
      }
    }

    String header(String name) {
      return headers.get(name);
    }
  }

  private final HttpClient client;
  private final Context context;
  private final int port;
  private final String apiKey;

  FileClient(Vertx vertx, int port, String apiKey) {
    this.client = vertx.createHttpClient();
    this.context = vertx.getOrCreateContext();
    this.port = port;
    this.apiKey = apiKey;
  }

  Answer call(HttpMethod method, String path, Map<String, String> headers, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost("127.0.0.1").setPort(port).setURI(path);
    if (apiKey != null) {
      options.putHeader("Authorization", "Bearer " + apiKey);
    }
    headers.forEach(options::putHeader);
    return await(onContext(() -> client.request(options)
        .compose(request -> body == null ? request.send() : request.send(body))
        .compose(response -> response.body().map(b -> new Answer(response.statusCode(), response.headers(), b)))), 60);
  }

  Answer get(String path, Map<String, String> headers) {
    return call(HttpMethod.GET, path, headers, null);
  }

  Answer get(String path) {
    return get(path, Map.of());
  }

  /** A POST whose body goes out as separate chunks with {@code Transfer-Encoding: chunked}. */
  Answer postChunked(String path, Map<String, String> headers, List<Buffer> chunks) {
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setHost("127.0.0.1").setPort(port)
        .setURI(path).putHeader("Authorization", "Bearer " + apiKey);
    headers.forEach(options::putHeader);
    HttpClientRequest request = await(onContext(() -> client.request(options)), 30);
    request.setChunked(true);
    for (Buffer chunk : chunks) {
      await(onContext(() -> request.write(chunk)), 30);
    }
    return await(onContext(() -> {
      Future<Answer> answer = request.response()
          .compose(response -> response.body().map(b -> new Answer(response.statusCode(), response.headers(), b)));
      request.end();
      return answer;
    }), 60);
  }

  private <T> Future<T> onContext(Supplier<Future<T>> call) {
    Promise<T> promise = Promise.promise();
    context.runOnContext(v -> call.get().onComplete(promise));
    return promise.future();
  }

  @Override
  public void close() {
    await(client.close(), 30);
  }

  /** Waits for {@code future}, failing the test instead of hanging. */
  static <T> T await(Future<T> future, int seconds) {
    try {
      return future.await(seconds, TimeUnit.SECONDS);
    } catch (TimeoutException e) {
      throw new AssertionError("no answer within " + seconds + " s", e);
    }
  }
}
