package io.dstream.broker.files;

import io.dstream.broker.archive.ArchiveKeys;
import io.dstream.broker.auth.Permissions;
import io.dstream.broker.config.FileUploadLimits;
import io.dstream.broker.http.AuthenticationHandler;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.http.PathSegments;
import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.s3.S3Connection;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ObjectWriteResponse;
import io.minio.PutObjectArgs;
import io.minio.RemoveObjectArgs;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.vertx.core.Future;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code /r2/{key}} and {@code GET /r2/}: the bucket as the original Durable Stream's R2 binding
 * exposed it (docs/storage.md#files). Bodies stream both ways with backpressure
 * ({@link RequestBodyStream}, {@link ResponsePump}); every S3 call runs on the transfer pool.
 *
 * <p>Keys are the percent-decoded path after {@code /r2/}, 1 to 1024 bytes of UTF-8 without {@code .} or
 * {@code ..} path segments; keys under
 * {@link ArchiveKeys#RESERVED_PREFIX} belong to the checkpoints and are refused with 400 (and left
 * out of listings). S3 errors map to statuses in {@link #fail}; an unreachable endpoint is 503.
 * A JWT's file scopes apply: reading and listing need {@code fileRead}, writing and deleting
 * {@code fileWrite} on a prefix of the key (403 otherwise); the API key may do everything.
 */
public final class FilesApi {

  private static final Logger LOG = LoggerFactory.getLogger(FilesApi.class);
  private static final String PREFIX = "/r2/";
  static final int MAX_KEY_BYTES = 1024;
  /** The stored HTTP metadata: request headers kept with the object and sent back with it. */
  static final List<String> HTTP_METADATA = List.of("Content-Type", "Content-Language", "Content-Disposition",
      "Content-Encoding", "Cache-Control", "Expires");
  private static final String AMZ_META = "x-amz-meta-";
  private static final String META = "x-meta-";

  private final S3Connection s3;
  private final FileListing listing;
  private final long partSizeBytes;
  private final FileUploadLimits uploadLimits;
  private final UploadSlots uploads;
  private final MemoryBudget memoryBudget;
  private final BrokerMetrics metrics;
  private final FileShares shares;

  public FilesApi(S3Connection s3, long partSizeBytes, int maxListLimit, FileUploadLimits uploadLimits,
                  MemoryBudget memoryBudget, BrokerMetrics metrics, FileShares shares) {
    this.s3 = s3;
    this.partSizeBytes = partSizeBytes;
    this.listing = new FileListing(s3, maxListLimit);
    this.uploadLimits = uploadLimits;
    this.uploads = new UploadSlots(uploadLimits.maxUploads(), uploadLimits.maxUploadsPerClient());
    this.memoryBudget = memoryBudget;
    this.metrics = metrics;
    this.shares = shares;
  }

  /**
   * Router step before authentication: a GET or HEAD carrying a share link's {@code signature} is
   * answered here with read permission on that key alone (403 if the link is broken or expired);
   * every other request goes on to authentication.
   */
  public void handleShared(RoutingContext ctx, String client) {
    String signature = ctx.request().getParam("signature");
    if (signature == null) {
      ctx.next();
      return;
    }
    String raw = ctx.request().path().substring(PREFIX.length());
    Permissions granted;
    try {
      granted = shares.verify(PathSegments.decode(raw), ctx.request().getParam("expires", ""), signature);
    } catch (IllegalArgumentException e) {
      granted = null;
    }
    if (granted == null) {
      HttpErrors.send(ctx.response(), 403, "forbidden", "this share link is not valid or has expired; ask for a new one");
      ctx.request().resume();
      return;
    }
    AuthenticationHandler.grant(ctx, granted);
    handle(ctx, client);
  }

  /** Handles every request under {@code /r2}; {@code client} is the client's address (upload slots are per client). */
  public void handle(RoutingContext ctx, String client) {
    if (!dispatch(ctx, client)) {
      // The router pauses every request; one whose body nobody reads (every answer but an upload's,
      // refused uploads included) must still be read to its end, or its keep-alive connection cannot
      // carry the next request, and a connection closed with unread bytes is reset, which can cost
      // the client the answer already sent.
      ctx.request().resume();
    }
  }

  /** Answers the request; true if an upload took over its body. */
  private boolean dispatch(RoutingContext ctx, String client) {
    HttpServerRequest request = ctx.request();
    String raw = request.path().length() <= PREFIX.length() ? "" : request.path().substring(PREFIX.length());
    if (raw.isEmpty() && request.method() == HttpMethod.GET) {
      String prefix = request.getParam("prefix", "");
      if (AuthenticationHandler.require(ctx, AuthenticationHandler.permissions(ctx).mayReadFile(prefix),
          "list files under '" + prefix + "'")) {
        listing.handle(ctx);
      }
      return false;
    }
    String key;
    try {
      key = PathSegments.decode(raw);
    } catch (IllegalArgumentException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_key", "invalid key: " + e.getMessage());
      return false;
    }
    String violation = keyViolation(key);
    if (violation != null) {
      HttpErrors.send(ctx.response(), 400, "invalid_key", violation);
      return false;
    }
    HttpMethod method = request.method();
    Permissions permissions = AuthenticationHandler.permissions(ctx);
    boolean write = method == HttpMethod.PUT || method == HttpMethod.POST || method == HttpMethod.DELETE;
    if (write && !AuthenticationHandler.require(ctx, permissions.mayWriteFile(key), "write file '" + key + "'")
        || !write && !AuthenticationHandler.require(ctx, permissions.mayReadFile(key), "read file '" + key + "'")) {
      return false;
    }
    String share = request.getParam("share");
    if (share != null && method == HttpMethod.GET) {
      handleShare(ctx, key, share);
    } else if (method == HttpMethod.PUT || method == HttpMethod.POST) {
      return startUpload(ctx, key, client);
    } else if (method == HttpMethod.GET || method == HttpMethod.HEAD) {
      handleGet(ctx, key, method == HttpMethod.HEAD);
    } else if (method == HttpMethod.DELETE) {
      handleDelete(ctx, key);
    } else {
      ctx.response().putHeader("Allow", "GET, HEAD, PUT, POST, DELETE");
      HttpErrors.send(ctx.response(), 405, "method_not_allowed", method + " is not supported on /r2/{key}");
    }
    return false;
  }

  /** {@code GET /r2/{key}?share=SECONDS}: a signed link to the key (the key need not exist yet). */
  private void handleShare(RoutingContext ctx, String key, String seconds) {
    FileShares.Link link;
    try {
      link = shares.sign(key, Long.parseLong(seconds));
    } catch (NumberFormatException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", "share must be a number of seconds, got '" + seconds + "'");
      return;
    } catch (IllegalArgumentException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_argument", e.getMessage());
      return;
    }
    ctx.response().putHeader("Content-Type", "application/json").putHeader("Cache-Control", "no-store")
        .end(new JsonObject().put("key", key).put("path", link.pathAndQuery())
            .put("expires", Instant.ofEpochSecond(link.expiresEpochSeconds()).toString()).encode());
  }

  static String keyViolation(String key) {
    int bytes = key.getBytes(StandardCharsets.UTF_8).length;
    if (bytes == 0) {
      return "the key is empty: use /r2/{key}";
    }
    if (bytes > MAX_KEY_BYTES) {
      return "the key is " + bytes + " bytes of UTF-8, more than " + MAX_KEY_BYTES;
    }
    if (key.startsWith(ArchiveKeys.RESERVED_PREFIX) || (key + "/").equals(ArchiveKeys.RESERVED_PREFIX)) {
      return "the key '" + ArchiveKeys.RESERVED_PREFIX.substring(0, ArchiveKeys.RESERVED_PREFIX.length() - 1)
          + "' and keys under it are reserved for the broker's checkpoints";
    }
    // S3 servers (MinIO among them) refuse these segments, and a filesystem-backed store could read
    // them as directory steps: refuse them up front with a clear answer.
    for (String segment : key.split("/", -1)) {
      if (segment.equals(".") || segment.equals("..")) {
        return "a key may not contain '.' or '..' as a path segment";
      }
    }
    return null;
  }

  /**
   * Takes an upload slot and the upload buffer's bytes in the memory budget, then uploads; false
   * (answered 503) when either is not available.
   */
  private boolean startUpload(RoutingContext ctx, String key, String client) {
    String refusal = uploads.tryAcquire(client);
    if (refusal != null) {
      metrics.uploadsRefused.increment();
      HttpErrors.sendRetryLater(ctx.response(), "too_many_uploads", refusal + "; retry later");
      return false;
    }
    if (!memoryBudget.tryReserve(RequestBodyStream.HIGH_WATER_BYTES)) {
      uploads.release(client);
      metrics.overloaded.increment();
      HttpErrors.sendRetryLater(ctx.response(), "overloaded", MemoryBudget.EXHAUSTED_MESSAGE);
      return false;
    }
    handlePut(ctx, key).onComplete(done -> {
      memoryBudget.release(RequestBodyStream.HIGH_WATER_BYTES);
      uploads.release(client);
    });
    return true;
  }

  /** Uploads the body; the future completes once the transfer thread is free again. */
  private Future<ObjectWriteResponse> handlePut(RoutingContext ctx, String key) {
    HttpServerRequest request = ctx.request();
    Map<String, String> headers = new LinkedHashMap<>();
    String contentType = null;
    for (String name : HTTP_METADATA) {
      String value = request.getHeader(name);
      if (value == null) {
        continue;
      }
      if (name.equals("Content-Type")) {
        contentType = value;
      } else {
        headers.put(name, value);
      }
    }
    Map<String, String> userMetadata = new LinkedHashMap<>();
    request.headers().forEach((name, value) -> {
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.startsWith(AMZ_META) && lower.length() > AMZ_META.length()) {
        userMetadata.put(lower.substring(AMZ_META.length()), value);
      } else if (lower.startsWith(META) && lower.length() > META.length()) {
        userMetadata.put(lower.substring(META.length()), value);
      }
    });
    long length = contentLength(request);
    RequestBodyStream body = RequestBodyStream.start(request, ctx.vertx().getOrCreateContext(),
        uploadLimits.minBytes(), uploadLimits.interval().toMillis(), () -> {
          metrics.slowUploadsCut.increment();
          ctx.response().putHeader("Connection", "close");
          HttpErrors.send(ctx.response(), 408, "upload_too_slow", "the upload delivered less than "
              + uploadLimits.minBytes() + " bytes in " + uploadLimits.interval().toMillis() + " ms");
          // Vert.x would keep the connection until the body ends, which a trickling client never does.
          request.connection().close();
        });
    PutObjectArgs.Builder args = PutObjectArgs.builder().bucket(s3.bucket()).object(key)
        .stream(body, length, length >= 0 ? -1 : partSizeBytes).headers(headers).userMetadata(userMetadata);
    if (contentType != null) {
      args.contentType(contentType);
    }
    return s3.transfer("put_object", () -> s3.client().putObject(args.build())).onComplete(ar -> {
      if (ar.failed()) {
        if (!request.isEnded()) {
          // The rest of the body is not read: the connection cannot carry another request.
          ctx.response().putHeader("Connection", "close");
        }
        body.discard();
        fail(ctx, ar.cause(), key);
        return;
      }
      ObjectWriteResponse written = ar.result();
      ctx.response().putHeader("etag", quoted(written.etag())).putHeader("Content-Type", "text/plain;charset=UTF-8")
          .end("Put " + key + " successfully!");
    });
  }

  private static long contentLength(HttpServerRequest request) {
    String header = request.getHeader("Content-Length");
    if (header == null || request.getHeader("Transfer-Encoding") != null) {
      return -1;
    }
    try {
      return Long.parseLong(header.trim());
    } catch (NumberFormatException e) {
      return -1;
    }
  }

  private void handleGet(RoutingContext ctx, String key, boolean head) {
    HttpServerRequest request = ctx.request();
    HttpServerResponse response = ctx.response();
    s3.transfer("stat_object", () -> s3.client().statObject(StatObjectArgs.builder().bucket(s3.bucket()).object(key).build()))
        .onComplete(ar -> {
          if (ar.failed()) {
            fail(ctx, ar.cause(), key);
            return;
          }
          StatObjectResponse stat = ar.result();
          Preconditions.Outcome outcome = Preconditions.evaluate(request, stat.etag(), stat.lastModified());
          if (outcome == Preconditions.Outcome.PRECONDITION_FAILED) {
            HttpErrors.send(response, 412, "precondition_failed", "a precondition of the request does not hold");
            return;
          }
          writeMetadata(response, stat);
          if (outcome == Preconditions.Outcome.NOT_MODIFIED) {
            response.headers().remove("Content-Type");
            response.setStatusCode(304).end();
            return;
          }
          ByteRange range = head ? ByteRange.WHOLE : ByteRange.parse(request.getHeader("Range"), stat.size());
          if (range == ByteRange.UNSATISFIABLE) {
            response.putHeader("Content-Range", "bytes */" + stat.size());
            HttpErrors.send(response, 416, "range_not_satisfiable", "the range is outside the object's " + stat.size() + " bytes");
            return;
          }
          if (range == ByteRange.WHOLE) {
            response.putHeader("Content-Length", Long.toString(stat.size()));
          } else {
            response.setStatusCode(206).putHeader("Content-Range", range.contentRange(stat.size()))
                .putHeader("Content-Length", Long.toString(range.length()));
          }
          if (head || stat.size() == 0) {
            response.end();
            return;
          }
          stream(ctx, key, stat, range);
        });
  }

  private void stream(RoutingContext ctx, String key, StatObjectResponse stat, ByteRange range) {
    GetObjectArgs.Builder args = GetObjectArgs.builder().bucket(s3.bucket()).object(key).matchETag(stat.etag());
    if (range != ByteRange.WHOLE) {
      args.offset(range.first()).length(range.length());
    }
    Future<GetObjectResponse> opened = s3.transfer("get_object", () -> s3.client().getObject(args.build()));
    opened.onComplete(ar -> {
      if (ar.failed()) {
        ctx.response().headers().clear();
        ctx.response().setStatusCode(200);
        fail(ctx, ar.cause(), key);
        return;
      }
      ResponsePump.start(ar.result(), ctx.response(), s3);
    });
  }

  private static void writeMetadata(HttpServerResponse response, StatObjectResponse stat) {
    for (String name : HTTP_METADATA) {
      String value = stat.headers().get(name);
      if (value != null) {
        response.putHeader(name, value);
      }
    }
    stat.userMetadata().forEach((name, value) -> response.putHeader(AMZ_META + name, value));
    response.putHeader("etag", quoted(stat.etag()))
        .putHeader("Last-Modified", DateTimeFormatter.RFC_1123_DATE_TIME.format(stat.lastModified()))
        .putHeader("Accept-Ranges", "bytes");
  }

  private void handleDelete(RoutingContext ctx, String key) {
    s3.transfer("delete_object", () -> {
      s3.client().removeObject(RemoveObjectArgs.builder().bucket(s3.bucket()).object(key).build());
      return null;
    }).onComplete(ar -> {
      if (ar.failed() && !"NoSuchKey".equals(S3Connection.errorCode(ar.cause()))) {
        fail(ctx, ar.cause(), key);
        return;
      }
      ctx.response().setStatusCode(200).end();
    });
  }

  static String quoted(String etag) {
    return etag.startsWith("\"") ? etag : "\"" + etag + "\"";
  }

  /** Answers an S3 failure: the S3 error as a status, or 503 when the endpoint cannot be reached. */
  static void fail(RoutingContext ctx, Throwable failure, String key) {
    HttpServerResponse response = ctx.response();
    String code = S3Connection.errorCode(failure);
    if (code != null) {
      switch (code) {
        case "NoSuchKey" -> HttpErrors.send(response, 404, "not_found", "no object with key '" + key + "'");
        case "PreconditionFailed" -> HttpErrors.send(response, 412, "precondition_failed", "the object changed");
        case "InvalidRange" -> HttpErrors.send(response, 416, "range_not_satisfiable", "the range is outside the object");
        case "EntityTooLarge" -> HttpErrors.send(response, 413, "too_large", "the object is too large for the store");
        default -> {
          LOG.warn("S3 refused a request for '{}': {}", key, failure.toString());
          HttpErrors.send(response, 502, "storage_error", "object storage refused the request: " + code);
        }
      }
      return;
    }
    if (S3Connection.unavailable(failure)) {
      HttpErrors.send(response, 503, "storage_unavailable", "object storage is unreachable: " + failure.getMessage());
      return;
    }
    LOG.error("file request for '{}' failed", key, failure);
    HttpErrors.send(response, 500, "internal", "internal error");
  }
}
