package io.dstream.broker.relay;

import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.stream.StreamError;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Relays HTTP requests (records API, Durable Streams) to their subject's leader. The request body
 * streams to the leader as it arrives and the leader's answer streams back, status, headers and body
 * unchanged, long-polls and Server-Sent Events included; this node buffers no body, and each side is
 * paused while the other cannot take more. A failure before the leader's answer starts is a 503 worth
 * retrying; after it, the client's connection is reset, so that a cut body never looks complete.
 *
 * <p>Bounds: connecting to the leader (or waiting for a pooled connection) takes at most the
 * connect timeout. Once the request is sent the leader may stay silent for {@code readSilenceMs} on a
 * {@code GET} (it may park the read for up to the long-poll timeout, and an SSE stream sends a
 * keep-alive at least that often) and {@code writeSilenceMs} otherwise; a longer silence fails the
 * exchange. A client that goes away resets the leader's request, which ends a parked read there.
 *
 * <p>Threading: each exchange runs on its request's event loop; the client is shared and
 * thread-safe.
 */
final class HttpRelay {

  private static final Logger LOG = LoggerFactory.getLogger(HttpRelay.class);

  private final HttpClient client;
  private final String nodeId;
  private final long connectTimeoutMs;
  private final long readSilenceMs;
  private final long writeSilenceMs;

  HttpRelay(HttpClient client, String nodeId, long connectTimeoutMs, long readSilenceMs, long writeSilenceMs) {
    this.client = client;
    this.nodeId = nodeId;
    this.connectTimeoutMs = connectTimeoutMs;
    this.readSilenceMs = readSilenceMs;
    this.writeSilenceMs = writeSilenceMs;
  }

  void relay(RoutingContext ctx, String subject, LeaderAddress leader) {
    HttpServerRequest in = ctx.request();
    // Nothing of the body may be read before it has somewhere to go.
    in.pause();
    RequestOptions options = new RequestOptions()
        .setMethod(in.method())
        .setHost(leader.host())
        .setPort(leader.port())
        .setSsl(leader.ssl())
        .setURI(in.uri())
        .setConnectTimeout(connectTimeoutMs)
        .setHeaders(RelayHeaders.request(in, nodeId));
    client.request(options).onComplete(connected -> {
      if (connected.failed()) {
        failed(ctx, subject, leader, connected.cause());
      } else {
        exchange(ctx, subject, leader, connected.result());
      }
    });
  }

  private void exchange(RoutingContext ctx, String subject, LeaderAddress leader, HttpClientRequest upstream) {
    HttpServerRequest in = ctx.request();
    HttpServerResponse out = ctx.response();
    HostAndPort authority = in.authority();
    if (authority != null) {
      // Absolute URIs the leader builds (a created stream's Location) name the node the client reached.
      upstream.authority(authority);
    }
    if (in.headers().contains(HttpHeaders.TRANSFER_ENCODING)) {
      upstream.setChunked(true);
    }
    // A client gone before its answer ended resets the leader's request too: a parked read there ends.
    ctx.addEndHandler(ended -> {
      if (ended.failed()) {
        upstream.reset();
      }
    });
    upstream.response().onComplete(answered -> {
      if (answered.failed()) {
        failed(ctx, subject, leader, answered.cause());
      } else {
        respond(out, answered.result(), in.method());
      }
    });
    if ("100-continue".equalsIgnoreCase(in.getHeader(HttpHeaders.EXPECT))) {
      out.writeContinue();
    }
    long silenceMs = in.method() == HttpMethod.GET ? readSilenceMs : writeSilenceMs;
    in.pipeTo(upstream).onComplete(sent -> {
      if (sent.succeeded()) {
        // From here on the leader owes the answer; while the client still sends, its own pace rules.
        upstream.idleTimeout(silenceMs);
      } else {
        upstream.reset();
      }
    });
  }

  private static void respond(HttpServerResponse out, HttpClientResponse answer, HttpMethod method) {
    if (out.ended() || out.closed()) {
      answer.request().reset();
      return;
    }
    out.setStatusCode(answer.statusCode());
    if (answer.statusMessage() != null) {
      out.setStatusMessage(answer.statusMessage());
    }
    RelayHeaders.response(answer.headers(), out.headers());
    if (!out.headers().contains(HttpHeaders.CONTENT_LENGTH) && hasBody(answer.statusCode(), method)) {
      out.setChunked(true);
    }
    answer.pipe().endOnFailure(false).to(out).onFailure(e -> {
      LOG.debug("relaying an answer was cut: {}", e.toString());
      out.reset();
    });
  }

  private static boolean hasBody(int status, HttpMethod method) {
    return method != HttpMethod.HEAD && status >= 200 && status != 204 && status != 304;
  }

  private static void failed(RoutingContext ctx, String subject, LeaderAddress leader, Throwable cause) {
    HttpServerResponse out = ctx.response();
    if (out.closed() || out.ended()) {
      return;
    }
    if (out.headWritten()) {
      out.reset();
      return;
    }
    LOG.info("relaying {} {} to {}, the leader of '{}', failed: {}", ctx.request().method(), ctx.request().path(),
        leader, subject, cause.toString());
    refuse(ctx, StreamError.of(StreamError.Kind.UNAVAILABLE, "unavailable", "cluster: the leader of '" + subject
        + "' at " + leader + " could not be reached or did not answer (" + cause.getMessage() + "); retry"));
  }

  /** Answers {@code error} here instead of relaying; a body the client declared is not read, so its connection goes. */
  static void refuse(RoutingContext ctx, StreamError error) {
    HttpServerRequest in = ctx.request();
    if (in.headers().contains(HttpHeaders.TRANSFER_ENCODING) || declaredLength(in) > 0) {
      ctx.response().putHeader(HttpHeaders.CONNECTION, "close");
    } else {
      in.resume();
    }
    HttpErrors.send(ctx.response(), error);
  }

  private static long declaredLength(HttpServerRequest in) {
    try {
      String length = in.getHeader(HttpHeaders.CONTENT_LENGTH);
      return length == null ? 0 : Long.parseLong(length.trim());
    } catch (NumberFormatException e) {
      return 1;
    }
  }

  Future<Void> close() {
    return client.close();
  }
}
