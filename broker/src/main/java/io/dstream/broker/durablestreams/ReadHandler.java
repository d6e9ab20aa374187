package io.dstream.broker.durablestreams;

import io.dstream.broker.stream.StreamError;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * {@code HEAD} (metadata) and {@code GET}: catch-up reads from an offset, {@code offset=now},
 * long-poll ({@code live=long-poll}: waits on the stream's actor for the next durable write, at most
 * the long-poll timeout, then 204) and SSE (handed to {@link SseSession}).
 */
final class ReadHandler {

  private static final Pattern OFFSET = Pattern.compile("-1|now|\\d+_\\d+");

  /** A validated read request. */
  record Read(String offset, String live, String cursor) {
    boolean longPoll() {
      return Protocol.LIVE_LONG_POLL.equals(live);
    }
  }

  private final StreamAccess access;
  private final long longPollTimeoutMs;

  ReadHandler(StreamAccess access, long longPollTimeoutMs) {
    this.access = access;
    this.longPollTimeoutMs = longPollTimeoutMs;
  }

  void handleHead(RoutingContext ctx, String path, String subject) {
    Context caller = Vertx.currentContext();
    HttpServerResponse response = ctx.response();
    access.find(subject, path, caller).onSuccess(found -> {
      if (found.meta() == null || found.meta().softDeleted) {
        response.setStatusCode(found.meta() == null ? 404 : 410).end();
        return;
      }
      StreamMeta meta = found.meta();
      response.putHeader(Protocol.NEXT_OFFSET, found.tailOffset()).putHeader("Cache-Control", "no-store")
          .putHeader("Content-Type", meta.contentType)
          .putHeader("ETag", DurableStreamsApi.etag(path, "-1", found.tailOffset(), meta.closed));
      if (meta.closed) {
        response.putHeader(Protocol.CLOSED, "true");
      }
      if (meta.ttlSeconds != null) {
        response.putHeader(Protocol.TTL, meta.ttlSeconds.toString());
      }
      if (meta.expiresAt != null) {
        response.putHeader(Protocol.EXPIRES_AT, meta.expiresAt);
      }
      response.setStatusCode(200).end();
    }).onFailure(failure -> DurableStreamsApi.fail(response, failure));
  }

  void handleGet(RoutingContext ctx, String path, String subject) {
    Read read = parse(ctx.request().params());
    Context caller = Vertx.currentContext();
    HttpServerResponse response = ctx.response();
    if (Protocol.LIVE_SSE.equals(read.live())) {
      access.find(subject, path, caller).compose(found -> {
        checkReadable(found.meta());
        access.touch(path);
        return new SseSession(access, subject, path, response, caller, longPollTimeoutMs).run(found, read);
      }).onFailure(failure -> DurableStreamsApi.fail(response, failure));
      return;
    }
    access.find(subject, path, caller).compose(found -> {
      checkReadable(found.meta());
      access.touch(path);
      return respond(ctx, subject, path, found, read, caller);
    }).onFailure(failure -> DurableStreamsApi.fail(response, failure));
  }

  static void checkReadable(StreamMeta meta) {
    if (meta == null) {
      throw DurableStreamsApi.notFound();
    }
    if (meta.softDeleted) {
      throw DurableStreamsApi.gone();
    }
  }

  private Future<Void> respond(RoutingContext ctx, String subject, String path, StreamAccess.Found found, Read read,
                               Context caller) {
    HttpServerResponse response = ctx.response();
    StreamMeta meta = found.meta();
    if (Offsets.NOW.equals(read.offset()) && !read.longPoll()) {
      response.putHeader("Content-Type", meta.contentType).putHeader(Protocol.NEXT_OFFSET, found.tailOffset())
          .putHeader(Protocol.UP_TO_DATE, "true").putHeader("Cache-Control", "no-store");
      if (meta.closed) {
        response.putHeader(Protocol.CLOSED, "true");
      }
      response.setStatusCode(200).end(meta.jsonMode() ? "[]" : "");
      return Future.succeededFuture();
    }
    long from = read.offset() == null || Offsets.BEFORE_START.equals(read.offset()) ? 0
        : Offsets.NOW.equals(read.offset()) ? found.tailPosition() : Offsets.position(read.offset());
    return access.read(found, from, caller).compose(chunk -> {
      boolean caughtUp = chunk.entries().isEmpty() && from >= found.tailPosition();
      if (read.longPoll() && caughtUp && read.offset() != null && !Offsets.BEFORE_START.equals(read.offset())) {
        return longPoll(ctx, subject, path, found, read, from, caller);
      }
      send(ctx, path, found, read, chunk);
      return Future.succeededFuture();
    });
  }

  /** Waits for the next durable write after position {@code from}, answering 204 on timeout or close. */
  private Future<Void> longPoll(RoutingContext ctx, String subject, String path, StreamAccess.Found found, Read read,
                                long from, Context caller) {
    HttpServerResponse response = ctx.response();
    if (found.meta().closed) {
      noContent(response, Offsets.format(from), read, true);
      return Future.succeededFuture();
    }
    long deadline = access.now() + longPollTimeoutMs;
    return waitLoop(ctx, subject, path, found, read, from, deadline, caller);
  }

  private Future<Void> waitLoop(RoutingContext ctx, String subject, String path, StreamAccess.Found found, Read read,
                                long from, long deadline, Context caller) {
    long remaining = deadline - access.now();
    if (remaining <= 0 || ctx.response().closed()) {
      noContent(ctx.response(), Offsets.format(from), read, found.meta().closed);
      return Future.succeededFuture();
    }
    return access.awaitChange(subject, found.snapshot().version(), remaining, caller).compose(changed -> {
      if (!changed) {
        return access.find(subject, path, caller).map(now -> {
          noContent(ctx.response(), Offsets.format(from), read, now.meta() != null && now.meta().closed);
          return null;
        });
      }
      return access.find(subject, path, caller).compose(now -> {
        checkReadable(now.meta());
        access.touch(path);
        return access.read(now, from, caller).compose(chunk -> {
          if (!chunk.entries().isEmpty()) {
            send(ctx, path, now, read, chunk);
            return Future.succeededFuture();
          }
          if (now.meta().closed) {
            noContent(ctx.response(), Offsets.format(from), read, true);
            return Future.succeededFuture();
          }
          return waitLoop(ctx, subject, path, now, read, from, deadline, caller);
        });
      });
    });
  }

  private static void noContent(HttpServerResponse response, String offset, Read read, boolean closed) {
    response.putHeader(Protocol.NEXT_OFFSET, offset).putHeader(Protocol.UP_TO_DATE, "true");
    if (closed) {
      response.putHeader(Protocol.CLOSED, "true");
    } else {
      response.putHeader(Protocol.CURSOR, Cursors.next(read.cursor(), System.currentTimeMillis()));
    }
    response.setStatusCode(204).end();
  }

  private void send(RoutingContext ctx, String path, StreamAccess.Found found, Read read, StreamAccess.Chunk chunk) {
    HttpServerResponse response = ctx.response();
    StreamMeta meta = found.meta();
    List<StreamAccess.Entry> entries = chunk.entries();
    long end = entries.isEmpty() ? found.tailPosition() : entries.get(entries.size() - 1).position();
    String endOffset = Offsets.format(end);
    boolean atTail = end >= found.tailPosition();
    boolean closedAtTail = meta.closed && atTail && chunk.upToDate();
    response.putHeader("Content-Type", meta.contentType).putHeader(Protocol.NEXT_OFFSET, endOffset);
    if (read.longPoll()) {
      response.putHeader(Protocol.CURSOR, Cursors.next(read.cursor(), System.currentTimeMillis()));
    }
    if (chunk.upToDate()) {
      response.putHeader(Protocol.UP_TO_DATE, "true");
    }
    if (closedAtTail) {
      response.putHeader(Protocol.CLOSED, "true");
    }
    String etag = DurableStreamsApi.etag(path, read.offset() == null ? "-1" : read.offset(), endOffset, closedAtTail);
    response.putHeader("ETag", etag);
    if (etag.equals(ctx.request().getHeader("If-None-Match"))) {
      response.setStatusCode(304).end();
      return;
    }
    List<byte[]> payloads = new ArrayList<>(entries.size());
    entries.forEach(entry -> payloads.add(entry.payload()));
    byte[] body = meta.jsonMode() ? JsonMode.response(payloads) : concat(payloads);
    response.setStatusCode(200).end(Buffer.buffer(body));
  }

  private static byte[] concat(List<byte[]> payloads) {
    Buffer out = Buffer.buffer();
    payloads.forEach(out::appendBytes);
    return out.getBytes();
  }

  private static Read parse(MultiMap params) {
    List<String> offsets = params.getAll(Protocol.OFFSET_PARAM);
    if (offsets.size() > 1) {
      throw StreamError.invalid("invalid_offset", "only one offset parameter is allowed");
    }
    String offset = offsets.isEmpty() ? null : offsets.get(0);
    if (offset != null && !OFFSET.matcher(offset).matches()) {
      throw StreamError.invalid("invalid_offset", "offset must be -1, now or an offset this stream returned");
    }
    String live = params.get(Protocol.LIVE_PARAM);
    if (live != null && !Protocol.LIVE_LONG_POLL.equals(live) && !Protocol.LIVE_SSE.equals(live)) {
      throw StreamError.invalid("invalid_live", "live must be long-poll or sse");
    }
    if (live != null && offset == null) {
      throw StreamError.invalid("offset_required", live + " needs an offset parameter");
    }
    return new Read(offset, live, params.get(Protocol.CURSOR_PARAM));
  }
}
