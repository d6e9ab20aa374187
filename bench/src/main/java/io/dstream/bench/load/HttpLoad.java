package io.dstream.bench.load;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import org.HdrHistogram.Histogram;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.function.Supplier;

/**
 * Scenario 7's load over HTTP/1.1 with keep-alive connections (one per request in flight, no
 * pipelining), a lean Vert.x client that reads every answer whole. All calls of one measurement run
 * on one event-loop context; the calling thread waits for the result within the deadline.
 */
final class HttpLoad {

  /** A long-poll waits at most this long for the next record (the publisher is running). */
  private static final int LONG_POLL_SECONDS = 5;
  private static final int READ_LIMIT = 1000;
  private static final String DATA = "\"data\":";
  private static final String OFFSET = "\"offset\":\"";

  private record Reply(int status, MultiMap headers, Buffer body) {
  }

  /** Scenario 7a's consumer: delivered records per second and the p99 publish-to-read latency. */
  record LongPoll(double deliveredPerSecond, double p99Micros) {
  }

  private final String name;
  private final String host;
  private final int port;
  private final String authorization;
  private final HttpClientAgent client;
  private final Context context;

  /** {@code apiKey} null: no credentials (the reference server has none). */
  HttpLoad(Vertx vertx, String name, String hostPort, String apiKey, int maxConnections) {
    this.name = name;
    this.host = hostPort.substring(0, hostPort.lastIndexOf(':'));
    this.port = Integer.parseInt(hostPort.substring(hostPort.lastIndexOf(':') + 1));
    this.authorization = apiKey == null ? null : "Bearer " + apiKey;
    // Idle connections are dropped before Node's 5-second keep-alive timeout could close one under a request.
    this.client = vertx.createHttpClient(new HttpClientOptions().setKeepAlive(true).setKeepAliveTimeout(3)
        .setTcpNoDelay(true).setConnectTimeout(10_000), new PoolOptions().setHttp1MaxSize(maxConnections));
    this.context = vertx.getOrCreateContext();
  }

  /** 7a: {@code records} records of 128 bytes, {@code perPost} to a POST, {@code inFlight} POSTs unanswered; msg/s. */
  double recordsPublish(String subject, int records, int perPost, int inFlight, Deadline deadline) throws Exception {
    long start = System.nanoTime();
    await(() -> publishRecords(subject, records, perPost, inFlight, deadline), deadline, "records publish");
    return Rates.perSecond(records, System.nanoTime() - start);
  }

  /**
   * 7a: a consumer long-polls from the start of a fresh subject while a publisher writes
   * {@code records} records as in {@link #recordsPublish}; the consumer's rate and latency.
   */
  LongPoll recordsLongPoll(String subject, int records, int perPost, int inFlight, Deadline deadline)
      throws Exception {
    Histogram latency = Rates.histogram();
    long start = System.nanoTime();
    await(() -> {
      Promise<Void> consumed = Promise.promise();
      poll(subject, "-", records, 0, latency, consumed, deadline);
      return publishRecords(subject, records, perPost, inFlight, deadline).compose(v -> consumed.future());
    }, deadline, "records long-poll");
    return new LongPoll(Rates.perSecond(records, System.nanoTime() - start), Rates.micros(latency, 99));
  }

  private Future<Void> publishRecords(String subject, int records, int perPost, int inFlight, Deadline deadline) {
    String uri = "/stream/" + encode(subject);
    int posts = (records + perPost - 1) / perPost;
    return Window.run(posts, inFlight, deadline, name + " records publish", i -> {
      int n = Math.min(perPost, records - i * perPost);
      StringBuilder body = new StringBuilder(n * (Payload.SIZE + 1) + 16).append("{\"records\":[");
      appendStrings(body, n);
      return expect(call(HttpMethod.POST, uri, "application/json", Buffer.buffer(body.append("]}").toString())),
          "records POST", 200);
    });
  }

  private void poll(String subject, String after, int records, int received, Histogram latency,
                    Promise<Void> consumed, Deadline deadline) {
    if (deadline.remainingMs() == 0) {
      consumed.tryFail(name + " long-poll consumer did not finish in time (" + received + " read)");
      return;
    }
    String uri = "/stream/" + encode(subject) + "?offset=" + after + "&limit=" + READ_LIMIT + "&timeout_sec="
        + LONG_POLL_SECONDS;
    expect(call(HttpMethod.GET, uri, null, null), "records GET", 200).onComplete(result -> {
      if (result.failed()) {
        consumed.tryFail(result.cause());
        return;
      }
      String body = result.result().body().toString(StandardCharsets.UTF_8);
      long now = System.nanoTime();
      int count = 0;
      for (int at = body.indexOf(DATA); at >= 0; at = body.indexOf(DATA, at + DATA.length())) {
        latency.recordValue(Math.max(0, now - Payload.nanosOfJson(body, at + DATA.length())));
        count++;
      }
      String next = after;
      int last = body.lastIndexOf(OFFSET);
      if (last >= 0) {
        next = body.substring(last + OFFSET.length(), body.indexOf('"', last + OFFSET.length()));
      }
      if (received + count >= records) {
        consumed.tryComplete();
      } else {
        poll(subject, next, records, received + count, latency, consumed, deadline);
      }
    });
  }

  /**
   * 7b: creates a Durable Streams stream and appends {@code messages} 128-byte messages with at most
   * {@code inFlight} POSTs unanswered. {@code perPost} 1: raw bytes, one message per POST
   * ({@code application/octet-stream}); more: a JSON stream, each POST a JSON array of {@code perPost}
   * strings, which the protocol appends as one unit. msg/s.
   */
  double dsAppend(String path, int messages, int perPost, int inFlight, Deadline deadline) throws Exception {
    boolean json = perPost > 1;
    String contentType = json ? "application/json" : "application/octet-stream";
    String uri = "/v1/stream/" + path;
    await(() -> expect(call(HttpMethod.PUT, uri, contentType, null), "stream PUT", 201), deadline, "stream PUT");
    int posts = (messages + perPost - 1) / perPost;
    long start = System.nanoTime();
    await(() -> Window.run(posts, inFlight, deadline, name + " append", i -> {
      Buffer body;
      if (json) {
        StringBuilder text = new StringBuilder(perPost * (Payload.SIZE + 1) + 2).append('[');
        appendStrings(text, Math.min(perPost, messages - i * perPost));
        body = Buffer.buffer(text.append(']').toString());
      } else {
        body = Buffer.buffer(Payload.bytes(System.nanoTime()));
      }
      return expect(call(HttpMethod.POST, uri, contentType, body), "append POST", 200, 204);
    }), deadline, "append");
    return Rates.perSecond(messages, System.nanoTime() - start);
  }

  /**
   * 7b: reads a JSON stream {@link #dsAppend} filled with {@code messages} strings from its start,
   * following {@code Stream-Next-Offset} until {@code Stream-Up-To-Date}, {@code passes} times one
   * after the other (one pass takes a tenth of a second, too short to time alone); checks that every
   * message came back. msg/s.
   */
  double dsCatchUp(String path, int messages, int passes, Deadline deadline) throws Exception {
    long start = System.nanoTime();
    for (int pass = 0; pass < passes; pass++) {
      long read = await(() -> read("/v1/stream/" + path, "-1", 0, deadline), deadline, "catch-up read");
      if (read != messages) {
        throw new IllegalStateException(name + " catch-up read " + read + " messages, expected " + messages);
      }
    }
    return Rates.perSecond((long) messages * passes, System.nanoTime() - start);
  }

  /** Each answer is a JSON array of the strings (which hold no commas); returns how many were read. */
  private Future<Long> read(String uri, String offset, long messages, Deadline deadline) {
    if (deadline.remainingMs() == 0) {
      return Future.failedFuture(name + " catch-up read did not finish in time");
    }
    return expect(call(HttpMethod.GET, uri + "?offset=" + offset, null, null), "catch-up GET", 200).compose(reply -> {
      long total = messages + values(reply.body());
      String next = reply.headers().get("Stream-Next-Offset");
      if ("true".equals(reply.headers().get("Stream-Up-To-Date")) || next == null) {
        return Future.succeededFuture(total);
      }
      return read(uri, next, total, deadline);
    });
  }

  private static long values(Buffer array) {
    if (array.length() <= 2) {
      return 0;
    }
    long commas = 0;
    for (byte b : array.getBytes()) {
      if (b == ',') {
        commas++;
      }
    }
    return commas + 1;
  }

  /** {@code n} 128-byte JSON strings, comma-separated, each with the time it was built. */
  private static void appendStrings(StringBuilder out, int n) {
    for (int k = 0; k < n; k++) {
      out.append(k == 0 ? "" : ",").append(Payload.jsonString(System.nanoTime()));
    }
  }

  private Future<Reply> call(HttpMethod method, String uri, String contentType, Buffer body) {
    RequestOptions options = new RequestOptions().setMethod(method).setHost(host).setPort(port).setURI(uri);
    if (authorization != null) {
      options.putHeader("Authorization", authorization);
    }
    if (contentType != null) {
      options.putHeader("Content-Type", contentType);
    }
    return client.request(options).compose(request -> body == null ? request.send() : request.send(body))
        .compose(response -> response.body().map(content -> new Reply(response.statusCode(), response.headers(),
            content)));
  }

  private Future<Reply> expect(Future<Reply> reply, String what, int... statuses) {
    return reply.compose(r -> {
      for (int status : statuses) {
        if (r.status() == status) {
          return Future.succeededFuture(r);
        }
      }
      String text = r.body().toString(StandardCharsets.UTF_8);
      return Future.failedFuture(name + " " + what + " answered " + r.status() + ": "
          + text.substring(0, Math.min(200, text.length())));
    });
  }

  private <T> T await(Supplier<Future<T>> work, Deadline deadline, String what) throws Exception {
    Promise<T> result = Promise.promise();
    context.runOnContext(v -> work.get().onComplete(result));
    return OursTarget.await(result.future(), deadline, name + " " + what);
  }

  private static String encode(String subject) {
    return URLEncoder.encode(subject, StandardCharsets.UTF_8);
  }
}
