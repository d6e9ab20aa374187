package io.dstream.cli;

import io.dstream.client.AdminClient;
import io.dstream.client.ClientOptions;
import io.dstream.client.impl.AdminClientImpl;
import io.dstream.client.impl.HttpCalls;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The broker's plain HTTP routes the CLI calls besides files, synchronously from its main thread: the admin API
 * (the library's {@link AdminClient}, docs/cli.md "Admin API"), a subject's destroy and the readiness answer.
 */
final class BrokerHttp implements AutoCloseable {

  /** The broker's largest page. */
  static final int MAX_PAGE = AdminClient.MAX_PAGE;

  private final HttpCalls calls;
  private final AdminClient admin;

  BrokerHttp(ClientOptions options) {
    this.calls = new HttpCalls(options);
    this.admin = new AdminClientImpl(calls);
  }

  /** @return {@code {"subjects":[...],"truncated":bool,"cursor":...}} */
  JsonObject subjects(String cursor, int limit) {
    return admin.subjects(null, cursor, limit).await();
  }

  /** @return the subject's sequences and state */
  JsonObject subject(String subject) {
    return admin.subject(subject).await();
  }

  /** @return {@code {"messages":[{"sequence","ts","message"}],"next":n,"lastSequence":n}} */
  JsonObject messages(String subject, long from, int limit) {
    return admin.messages(subject, from, limit).await();
  }

  /** Destroys the subject ({@code DELETE /stream/{subject}}, the records API's destroy). */
  void destroy(String subject) {
    admin.deleteSubject(subject).await();
  }

  /** @return cluster mode's partitions as the broker sees them ({@link AdminClient#cluster}) */
  JsonObject cluster() {
    return admin.cluster().await();
  }

  /** @return where cluster mode places {@code subject} ({@link AdminClient#placement}) */
  JsonObject placement(String subject) {
    return admin.placement(subject).await();
  }

  /** @return the broker's readiness answer ({@code GET /health/ready}), whatever its status code */
  JsonObject readiness() {
    HttpRequest request = calls.request("/health/ready").GET().build();
    return await(calls.send(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
      try {
        return new JsonObject(response.body());
      } catch (DecodeException e) {
        throw HttpCalls.failure(response.statusCode(), response.body(), "GET /health/ready");
      }
    }));
  }

  /** @return the nanoseconds one {@code GET /health} took, answer included */
  long ping() {
    HttpRequest request = calls.request("/health").GET().build();
    long start = System.nanoTime();
    await(calls.send(request, HttpResponse.BodyHandlers.discarding()));
    return System.nanoTime() - start;
  }

  /** @return the broker's base URL */
  String base() {
    return calls.base();
  }

  private static <T> T await(CompletableFuture<T> call) {
    try {
      return call.get();
    } catch (ExecutionException | CompletionException e) {
      Throwable cause = HttpCalls.unwrap(e.getCause() == null ? e : e.getCause());
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new IllegalStateException(cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }

  @Override
  public void close() {
    admin.close();
  }
}
