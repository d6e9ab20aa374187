package io.dstream.broker.files;

import io.dstream.broker.archive.ArchiveKeys;
import io.dstream.broker.http.HttpErrors;
import io.dstream.broker.s3.S3Connection;
import io.minio.ListObjectsArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.messages.Item;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.TreeMap;

/**
 * {@code GET /r2/?prefix=&delimiter=&cursor=&limit=}: a page of the bucket in key order as R2's
 * {@code list()} returns it,
 * {@code {"objects":[{"key","size","etag","httpEtag","uploaded","httpMetadata","customMetadata"}],
 * "truncated","cursor","delimitedPrefixes"}}.
 *
 * <p>The cursor is opaque to clients: base64url of the key (or delimited prefix) the next page
 * starts after. The archive's keys are skipped by starting the listing again after them. Metadata
 * needs one HEAD per object (S3 listings do not carry it), issued in parallel on the transfer pool.
 */
final class FileListing {

  /** Sorts after every key that starts with a given prefix (U+10FFFF is the largest code point). */
  private static final String AFTER_ALL = new String(Character.toChars(Character.MAX_CODE_POINT));

  private final S3Connection s3;
  private final int maxLimit;

  FileListing(S3Connection s3, int maxLimit) {
    this.s3 = s3;
    this.maxLimit = maxLimit;
  }

  /** One listed entry: an object or a delimited prefix. */
  private record Entry(String name, Item item) {
  }

  private record Page(List<Entry> entries, boolean truncated) {
  }

  private record Described(Page page, List<JsonObject> objects) {
  }

  void handle(RoutingContext ctx) {
    String prefix = ctx.request().getParam("prefix", "");
    String delimiter = ctx.request().getParam("delimiter", "");
    String cursor = ctx.request().getParam("cursor");
    int limit;
    String startAfter;
    try {
      limit = limit(ctx.request().getParam("limit"));
      startAfter = cursor == null || cursor.isEmpty() ? null
          : new String(Base64.getUrlDecoder().decode(cursor), StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      HttpErrors.send(ctx.response(), 400, "invalid_listing", e.getMessage());
      return;
    }
    if (prefix.startsWith(ArchiveKeys.RESERVED_PREFIX)) {
      respond(ctx, new Page(List.of(), false), List.of());
      return;
    }
    s3.transfer("list_objects", () -> page(prefix, delimiter, startAfter, limit))
        .compose(page -> describe(page).map(objects -> new Described(page, objects)))
        .onComplete(ar -> {
          if (ar.failed()) {
            FilesApi.fail(ctx, ar.cause(), prefix);
            return;
          }
          respond(ctx, ar.result().page(), ar.result().objects());
        });
  }

  private int limit(String param) {
    if (param == null || param.isEmpty()) {
      return maxLimit;
    }
    try {
      int limit = Integer.parseInt(param);
      if (limit < 1) {
        throw new IllegalArgumentException("limit must be >= 1, got " + param);
      }
      return Math.min(limit, maxLimit);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("limit must be a number, got '" + param + "'");
    }
  }

  /**
   * Lists up to {@code limit} entries after {@code startAfter}, skipping the archive's keys. Entries
   * are collected in a sorted map because an S3 page lists its objects before its delimited
   * prefixes, and skipping the archive may list part of a page twice. Blocking.
   */
  private Page page(String prefix, String delimiter, String startAfter, int limit) throws Exception {
    TreeMap<String, Entry> found = new TreeMap<>();
    String after = startAfter;
    boolean restart = true;
    while (restart && found.size() <= limit) {
      restart = false;
      ListObjectsArgs.Builder args = ListObjectsArgs.builder().bucket(s3.bucket()).prefix(prefix)
          .maxKeys(Math.min(1000, limit + 1));
      if (delimiter.isEmpty()) {
        args.recursive(true);
      } else {
        args.delimiter(delimiter);
      }
      if (after != null) {
        args.startAfter(after);
      }
      for (Result<Item> result : s3.client().listObjects(args.build())) {
        Item item = result.get();
        String name = item.objectName();
        if (name.startsWith(ArchiveKeys.RESERVED_PREFIX)) {
          if (after == null || after.compareTo(ArchiveKeys.AFTER_RESERVED) < 0) {
            after = ArchiveKeys.AFTER_RESERVED;
            restart = true;
          }
          break;
        }
        found.put(name, new Entry(name, item));
        if (found.size() > limit) {
          break;
        }
      }
    }
    List<Entry> entries = new ArrayList<>(found.values());
    boolean truncated = entries.size() > limit;
    return new Page(truncated ? entries.subList(0, limit) : entries, truncated);
  }

  private Future<List<JsonObject>> describe(Page page) {
    List<Future<JsonObject>> described = new ArrayList<>();
    for (Entry entry : page.entries()) {
      if (entry.item().isDir()) {
        continue;
      }
      described.add(s3.transfer("stat_object", () -> describe(entry.item())).recover(e ->
          "NoSuchKey".equals(S3Connection.errorCode(e)) ? Future.succeededFuture(null) : Future.failedFuture(e)));
    }
    return Future.all(described).map(all -> {
      List<JsonObject> objects = new ArrayList<>();
      for (Future<JsonObject> object : described) {
        if (object.result() != null) {
          objects.add(object.result());
        }
      }
      return objects;
    });
  }

  private JsonObject describe(Item item) throws Exception {
    StatObjectResponse stat = s3.client().statObject(StatObjectArgs.builder().bucket(s3.bucket())
        .object(item.objectName()).build());
    JsonObject http = new JsonObject();
    putIfPresent(http, "contentType", stat.headers().get("Content-Type"));
    putIfPresent(http, "contentLanguage", stat.headers().get("Content-Language"));
    putIfPresent(http, "contentDisposition", stat.headers().get("Content-Disposition"));
    putIfPresent(http, "contentEncoding", stat.headers().get("Content-Encoding"));
    putIfPresent(http, "cacheControl", stat.headers().get("Cache-Control"));
    putIfPresent(http, "cacheExpiry", stat.headers().get("Expires"));
    JsonObject custom = new JsonObject();
    stat.userMetadata().forEach(custom::put);
    return new JsonObject().put("key", item.objectName()).put("size", stat.size()).put("etag", stat.etag())
        .put("httpEtag", FilesApi.quoted(stat.etag())).put("uploaded", stat.lastModified().toInstant().toString())
        .put("httpMetadata", http).put("customMetadata", custom);
  }

  private static void putIfPresent(JsonObject json, String name, String value) {
    if (value != null) {
      json.put(name, value);
    }
  }

  private static void respond(RoutingContext ctx, Page page, List<JsonObject> objects) {
    JsonArray prefixes = new JsonArray();
    page.entries().stream().filter(e -> e.item().isDir()).forEach(e -> prefixes.add(e.name()));
    JsonObject body = new JsonObject().put("objects", new JsonArray(new ArrayList<>(objects)))
        .put("truncated", page.truncated()).put("delimitedPrefixes", prefixes);
    if (page.truncated()) {
      Entry last = page.entries().get(page.entries().size() - 1);
      String resumeAfter = last.item().isDir() ? last.name() + AFTER_ALL : last.name();
      body.put("cursor", Base64.getUrlEncoder().withoutPadding().encodeToString(resumeAfter.getBytes(StandardCharsets.UTF_8)));
    }
    ctx.response().putHeader("Content-Type", "application/json").end(body.encode());
  }
}
