package io.dstream.cli;

import io.dstream.client.ClientOptions;
import io.dstream.client.impl.HttpCalls;
import io.vertx.core.json.JsonObject;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;

/**
 * The broker's read-only admin routes ({@code GET /admin/subjects...}, docs/cli.md "Admin API"),
 * called synchronously from the CLI's thread.
 */
final class AdminHttp implements AutoCloseable {

  /** The broker's largest page. */
  static final int MAX_PAGE = 1000;

  private final HttpCalls calls;

  AdminHttp(ClientOptions options) {
    this.calls = new HttpCalls(options);
  }

  /** @return {@code {"subjects":[...],"truncated":bool,"cursor":...}} */
  JsonObject subjects(String cursor, int limit) {
    return get("/admin/subjects?limit=" + limit + (cursor == null ? "" : "&cursor=" + encode(cursor)));
  }

  /** @return the subject's sequences and state */
  JsonObject subject(String subject) {
    return get("/admin/subjects/" + encode(subject));
  }

  /** @return {@code {"messages":[{"sequence","ts","message"}],"next":n,"lastSequence":n}} */
  JsonObject messages(String subject, long from, int limit) {
    return get("/admin/subjects/" + encode(subject) + "/messages?from=" + from + "&limit=" + limit);
  }

  private JsonObject get(String pathAndQuery) {
    try {
      return calls.getJson(pathAndQuery).get();
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

  private static String encode(String value) {
    return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
  }

  @Override
  public void close() {
    calls.close();
  }
}
