package io.dstream.broker.durablestreams;

import io.dstream.broker.stream.StreamError;
import io.dstream.broker.http.PathSegments;
import io.dstream.broker.stream.SubjectTransaction;
import io.vertx.core.json.JsonArray;
import java.nio.charset.StandardCharsets;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * {@code PUT}: creates a stream (201), or confirms an identical one (200), or refuses a different
 * one (409). With {@code Stream-Forked-From} the new stream starts as a copy-free fork: it reads
 * its source's messages up to the fork offset, then its own. The source counts its forks so that
 * deleting it only hides it until the last fork is gone.
 */
final class CreateHandler {

  private static final Pattern DECIMAL = Pattern.compile("0|[1-9]\\d*");
  private static final Pattern MEDIA_TYPE = Pattern.compile("^[\\w-]+/[\\w-]+.*", Pattern.DOTALL);

  /** What a create asks for, validated. */
  private record Request(String contentType, Long ttlSeconds, String expiresAt, long expiresAtMs, boolean closed,
                         String forkedFrom, String forkOffset, long forkSubOffset, byte[] body) {
  }

  /** Fork parameters resolved against the source. */
  private record Fork(long base, byte[] prefix, String contentType, Long ttlSeconds, String expiresAt,
                      long expiresAtMs) {
  }

  /** The answer of the create step. */
  private record Created(boolean isNew, StreamMeta meta, long tail) {
  }

  private final StreamAccess access;
  private final Subscriptions subscriptions;

  CreateHandler(StreamAccess access, Subscriptions subscriptions) {
    this.access = access;
    this.subscriptions = subscriptions;
  }

  void handle(RoutingContext ctx, String path, String subject) {
    Request request = parse(ctx);
    Context caller = Vertx.currentContext();
    HttpServerResponse response = ctx.response();
    Future<Created> created;
    if (request.forkedFrom() == null) {
      created = access.call(subject, path, caller, (tx, meta) -> create(tx, meta, request, null));
    } else {
      created = createFork(path, subject, request, caller);
    }
    created.onSuccess(result -> {
      access.touch(path);
      if (result.isNew() && request.body().length > 0) {
        subscriptions.streamWritten(path, result.tail());
      } else {
        subscriptions.streamKnown(path, result.tail());
      }
      StreamMeta meta = result.meta();
      response.putHeader("Content-Type", meta.contentType).putHeader(Protocol.NEXT_OFFSET, Offsets.format(result.tail()));
      if (meta.closed) {
        response.putHeader(Protocol.CLOSED, "true");
      }
      if (result.isNew()) {
        response.putHeader("Location", ctx.request().absoluteURI());
      }
      response.setStatusCode(result.isNew() ? 201 : 200).end();
    }).onFailure(failure -> DurableStreamsApi.fail(response, failure));
  }

  private Future<Created> createFork(String path, String subject, Request request, Context caller) {
    String sourceSubject = StreamPaths.subject(request.forkedFrom());
    if (sourceSubject == null) {
      return Future.failedFuture(StreamError.notFound("source_not_found", "fork source not found"));
    }
    Future<Created> existing = access.find(subject, path, caller)
        .map(found -> found.meta() == null ? null : compare(found.meta(), request, found.tailPosition()));
    return existing.compose(done -> {
      if (done != null) {
        return Future.succeededFuture(done);
      }
      return access.find(sourceSubject, request.forkedFrom(), caller)
          .compose(found -> resolveFork(found, request, caller))
          .compose(fork -> access.call(sourceSubject, request.forkedFrom(), caller, (tx, meta) -> {
            if (meta == null || meta.softDeleted) {
              throw StreamError.notFound("source_not_found", "fork source not found");
            }
            meta.refs++;
            tx.putAttributes(meta.encode());
            return fork;
          }))
          .compose(fork -> access.call(subject, path, caller, (tx, meta) -> create(tx, meta, request, fork))
              .compose(result -> result.isNew() ? Future.succeededFuture(result)
                  : access.releaseSource(request.forkedFrom(), caller).map(result)));
    });
  }

  private Future<Fork> resolveForkSource(StreamAccess.Found found, Request request) {
    if (found.meta() == null) {
      return Future.failedFuture(StreamError.notFound("source_not_found", "fork source not found"));
    }
    StreamMeta source = found.meta();
    if (source.softDeleted) {
      return Future.failedFuture(StreamError.conflict("source_deleted",
          "fork source was deleted but still has active forks"));
    }
    if (request.contentType() != null
        && !StreamMeta.mediaType(request.contentType()).equals(StreamMeta.mediaType(source.contentType))) {
      return Future.failedFuture(StreamError.conflict("content_type_mismatch", "content type differs from the fork source"));
    }
    long base = request.forkOffset() == null ? found.tailPosition() : Offsets.position(request.forkOffset());
    if (base > found.tailPosition()) {
      return Future.failedFuture(StreamError.invalid("invalid_fork_offset", "fork offset beyond the source's tail"));
    }
    Long ttl = request.ttlSeconds();
    String expiresAt = request.expiresAt();
    long expiresAtMs = request.expiresAtMs();
    if (ttl == null && expiresAt == null) {
      ttl = source.ttlSeconds;
      expiresAt = source.expiresAt;
      expiresAtMs = source.expiresAtMs;
    }
    return Future.succeededFuture(new Fork(base, null, source.contentType, ttl, expiresAt, expiresAtMs));
  }

  private Future<Fork> resolveFork(StreamAccess.Found found, Request request, Context caller) {
    return resolveForkSource(found, request).compose(fork -> {
      if (request.forkSubOffset() <= 0) {
        return Future.succeededFuture(fork);
      }
      return access.read(found, fork.base(), caller).map(chunk -> {
        if (chunk.entries().isEmpty()) {
          throw StreamError.invalid("invalid_fork_sub_offset", "no message after the fork offset");
        }
        byte[] first = chunk.entries().get(0).payload();
        byte[] prefix = StreamMeta.mediaType(fork.contentType()).equals(StreamMeta.JSON)
            ? jsonPrefix(first, request.forkSubOffset()) : binaryPrefix(first, request.forkSubOffset());
        return new Fork(fork.base(), prefix, fork.contentType(), fork.ttlSeconds(), fork.expiresAt(), fork.expiresAtMs());
      });
    });
  }

  private static byte[] binaryPrefix(byte[] message, long subOffset) {
    if (subOffset > message.length) {
      throw StreamError.invalid("invalid_fork_sub_offset", "sub-offset beyond the message");
    }
    return Arrays.copyOf(message, (int) subOffset);
  }

  private static byte[] jsonPrefix(byte[] message, long subOffset) {
    JsonArray values = new JsonArray(
        "[" + new String(message, StandardCharsets.UTF_8) + "]");
    if (subOffset > values.size()) {
      throw StreamError.invalid("invalid_fork_sub_offset", "sub-offset beyond the message's values");
    }
    return JsonMode.stored(new JsonArray(values.getList().subList(0, (int) subOffset)).toBuffer()
        .getBytes(), false);
  }

  /** The create step: confirm or refuse an existing stream, else write the new metadata and initial messages. */
  private Created create(SubjectTransaction tx, StreamMeta existing, Request request, Fork fork) {
    if (existing != null) {
      return compare(existing, request, existing.position(tx.lastSequence()));
    }
    StreamMeta meta = new StreamMeta();
    meta.origin = tx.lastSequence();
    meta.createdMs = access.now();
    meta.closed = request.closed();
    if (fork == null) {
      meta.contentType = request.contentType() == null ? "application/octet-stream" : request.contentType();
      meta.ttlSeconds = request.ttlSeconds();
      meta.expiresAt = request.expiresAt();
      meta.expiresAtMs = request.expiresAtMs();
    } else {
      meta.contentType = request.contentType() == null ? fork.contentType() : request.contentType();
      meta.ttlSeconds = fork.ttlSeconds();
      meta.expiresAt = fork.expiresAt();
      meta.expiresAtMs = fork.expiresAtMs();
      meta.forkedFrom = request.forkedFrom();
      meta.forkBase = fork.base();
      meta.forkOffset = Offsets.format(fork.base());
      meta.forkSubOffset = request.forkSubOffset();
    }
    byte[] initial = null;
    if (request.body().length > 0) {
      initial = meta.jsonMode() ? JsonMode.stored(request.body(), true) : request.body();
    }
    tx.putAttributes(meta.encode());
    if (fork != null && fork.prefix() != null && fork.prefix().length > 0) {
      tx.append(fork.prefix());
    }
    if (initial != null) {
      tx.append(initial);
    }
    return new Created(true, meta, meta.position(tx.lastSequence()));
  }

  /** An existing stream: the same configuration is an idempotent success, another one a conflict. */
  private static Created compare(StreamMeta existing, Request request, long tail) {
    if (existing.softDeleted) {
      throw StreamError.conflict("path_in_use", "stream was deleted but still has active forks; the path cannot be reused yet");
    }
    boolean same = (request.contentType() == null && request.forkedFrom() != null
        || StreamMeta.mediaType(request.contentType()).equals(StreamMeta.mediaType(existing.contentType)))
        && Objects.equals(request.ttlSeconds(), existing.ttlSeconds)
        && Objects.equals(request.expiresAt(), existing.expiresAt)
        && request.closed() == existing.closed
        && Objects.equals(request.forkedFrom(), existing.forkedFrom)
        && (request.forkOffset() == null || existing.forkOffset != null
            && Offsets.position(request.forkOffset()) == Offsets.position(existing.forkOffset))
        && request.forkSubOffset() == existing.forkSubOffset;
    if (!same) {
      throw StreamError.conflict("conflict", "stream already exists with a different configuration");
    }
    return new Created(false, existing, tail);
  }

  private static Request parse(RoutingContext ctx) {
    HttpServerRequest http = ctx.request();
    String forkedFrom = sourcePath(http.getHeader(Protocol.FORKED_FROM));
    String contentType = http.getHeader("Content-Type");
    if (contentType == null || contentType.isBlank() || !MEDIA_TYPE.matcher(contentType).matches()) {
      contentType = forkedFrom != null ? null : "application/octet-stream";
    }
    String ttl = http.getHeader(Protocol.TTL);
    String expiresAt = http.getHeader(Protocol.EXPIRES_AT);
    if (ttl != null && expiresAt != null) {
      throw StreamError.invalid("invalid_expiry", "Stream-TTL and Stream-Expires-At cannot both be set");
    }
    Long ttlSeconds = null;
    if (ttl != null) {
      if (!DECIMAL.matcher(ttl).matches() || ttl.length() > 18) {
        throw StreamError.invalid("invalid_ttl", "Stream-TTL must be a non-negative integer of seconds");
      }
      ttlSeconds = Long.parseLong(ttl);
    }
    long expiresAtMs = 0;
    if (expiresAt != null) {
      expiresAtMs = parseInstant(expiresAt);
    }
    String forkOffset = http.getHeader(Protocol.FORK_OFFSET);
    if (forkOffset != null && !Offsets.wellFormed(forkOffset)) {
      throw StreamError.invalid("invalid_fork_offset", "invalid Stream-Fork-Offset");
    }
    String subOffset = http.getHeader(Protocol.FORK_SUB_OFFSET);
    long forkSubOffset = 0;
    if (subOffset != null) {
      if (forkedFrom == null) {
        throw StreamError.invalid("invalid_fork_sub_offset", "Stream-Fork-Sub-Offset requires Stream-Forked-From");
      }
      if (!DECIMAL.matcher(subOffset).matches() || subOffset.length() > 9) {
        throw StreamError.invalid("invalid_fork_sub_offset", "invalid Stream-Fork-Sub-Offset");
      }
      forkSubOffset = Long.parseLong(subOffset);
    }
    byte[] body = ctx.body() == null || ctx.body().buffer() == null ? new byte[0] : ctx.body().buffer().getBytes();
    return new Request(contentType, ttlSeconds, expiresAt, expiresAtMs, "true".equals(http.getHeader(Protocol.CLOSED)),
        forkedFrom, forkOffset, forkSubOffset, body);
  }

  /**
   * The stream path named by {@code Stream-Forked-From}: a URL path as the client uses it
   * ({@code /v1/stream/a%2Fb}) or the bare stream path.
   */
  static String sourcePath(String header) {
    if (header == null) {
      return null;
    }
    String raw = header.startsWith(DurableStreamsApi.PREFIX) ? header.substring(DurableStreamsApi.PREFIX.length())
        : header.startsWith("/") ? header.substring(1) : header;
    try {
      return PathSegments.decode(raw);
    } catch (IllegalArgumentException e) {
      throw StreamError.invalid("invalid_fork_source", "invalid Stream-Forked-From: " + e.getMessage());
    }
  }

  private static long parseInstant(String value) {
    try {
      return OffsetDateTime.parse(value).toInstant().toEpochMilli();
    } catch (DateTimeParseException e) {
      try {
        return Instant.parse(value).toEpochMilli();
      } catch (DateTimeParseException again) {
        throw StreamError.invalid("invalid_expires_at", "Stream-Expires-At must be an RFC 3339 timestamp");
      }
    }
  }
}
