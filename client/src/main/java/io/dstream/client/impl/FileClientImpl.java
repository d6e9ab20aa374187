package io.dstream.client.impl;

import io.dstream.client.ClientOptions;
import io.dstream.client.FileClient;
import io.dstream.client.StreamException;
import io.vertx.core.Future;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * {@link FileClient} over {@code /r2/} with the JDK HTTP client: uploads stream from an
 * {@link InputStream} publisher, downloads stream into the target on a client thread. Thread-safe.
 */
public final class FileClientImpl implements FileClient {

  private static final int COPY_BUFFER = 64 * 1024;
  private static final String OCTET_STREAM = "application/octet-stream";

  private final HttpCalls calls;

  public FileClientImpl(ClientOptions options) {
    this.calls = new HttpCalls(options);
  }

  @Override
  public Future<FileInfo> put(String key, Path file, String contentType, Progress progress) {
    long size;
    InputStream body;
    try {
      size = Files.size(file);
      body = Files.newInputStream(file);
    } catch (IOException e) {
      return Future.failedFuture(new UncheckedIOException("cannot read " + file + ": " + e.getMessage(), e));
    }
    return put(key, body, size, contentType, progress);
  }

  @Override
  public Future<FileInfo> put(String key, InputStream body, long length, String contentType, Progress progress) {
    Objects.requireNonNull(body, "body");
    Progress listener = progress == null ? Progress.NONE : progress;
    InputStream counted = new CountingInputStream(body, length, listener);
    HttpRequest.BodyPublisher publisher = length < 0
        ? HttpRequest.BodyPublishers.ofInputStream(() -> counted)
        : HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> counted), length);
    HttpRequest request = calls.request(path(key))
        .header("Content-Type", contentType == null ? OCTET_STREAM : contentType)
        .PUT(publisher).build();
    CompletableFuture<FileInfo> stored = calls.send(request, HttpResponse.BodyHandlers.ofString())
        .whenComplete((response, failure) -> closeQuietly(body))
        .thenCompose(response -> {
          if (response.statusCode() / 100 != 2) {
            throw HttpCalls.failure(response.statusCode(), response.body(), "PUT " + key);
          }
          return head(key).toCompletionStage();
        });
    return HttpCalls.future(stored);
  }

  @Override
  public Future<FileInfo> get(String key, Path target, ByteRange range, Progress progress) {
    // Written beside the target and renamed over it once complete: a failed download leaves no
    // partial or empty file, and an existing target stays as it was.
    Path absolute = target.toAbsolutePath();
    Path partial;
    OutputStream out;
    try {
      partial = Files.createTempFile(absolute.getParent(), "." + absolute.getFileName(), ".part");
      out = Files.newOutputStream(partial, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING);
    } catch (IOException e) {
      return Future.failedFuture(new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e));
    }
    return get(key, out, range, progress).transform(done -> {
      closeQuietly(out);
      try {
        if (done.succeeded()) {
          Files.move(partial, absolute, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } else {
          Files.deleteIfExists(partial);
        }
      } catch (IOException e) {
        return Future.failedFuture(new UncheckedIOException("cannot write " + target + ": " + e.getMessage(), e));
      }
      return done.succeeded() ? Future.succeededFuture(done.result()) : Future.failedFuture(done.cause());
    });
  }

  @Override
  public Future<ShareLink> share(String key, Duration lifetime) {
    long seconds = lifetime.toSeconds();
    if (seconds < 1) {
      return Future.failedFuture(new IllegalArgumentException("a share link must live at least 1 s"));
    }
    return HttpCalls.future(calls.getJson(path(key) + "?share=" + seconds).thenApply(answer ->
        new ShareLink(calls.base() + answer.getString("path"), answer.getString("expires"))));
  }

  @Override
  public Future<FileInfo> get(String key, OutputStream target, ByteRange range, Progress progress) {
    Progress listener = progress == null ? Progress.NONE : progress;
    HttpRequest.Builder builder = calls.request(path(key)).GET();
    if (range != null) {
      builder.header("Range", range.header());
    }
    CompletableFuture<FileInfo> copied = calls.send(builder.build(), HttpResponse.BodyHandlers.ofInputStream())
        .thenApplyAsync(response -> {
          try (InputStream in = response.body()) {
            if (response.statusCode() / 100 != 2) {
              throw HttpCalls.failure(response.statusCode(), new String(in.readAllBytes(),
                  StandardCharsets.UTF_8), "GET " + key);
            }
            long total = response.headers().firstValueAsLong("Content-Length").orElse(-1);
            copy(in, target, total, listener);
            return info(key, response.headers());
          } catch (IOException e) {
            throw new CompletionException(new StreamException(StreamException.TRANSPORT_ERROR,
                "GET " + key + " broke off: " + e.getMessage(), e));
          }
        }, calls.executor());
    return HttpCalls.future(copied);
  }

  @Override
  public Future<FileInfo> head(String key) {
    HttpRequest request = calls.request(path(key)).method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
    return HttpCalls.future(calls.send(request, HttpResponse.BodyHandlers.discarding()).thenApply(response -> {
      if (response.statusCode() / 100 != 2) {
        throw HttpCalls.failure(response.statusCode(), "", "HEAD " + key);
      }
      return info(key, response.headers());
    }));
  }

  @Override
  public Future<Void> delete(String key) {
    HttpRequest request = calls.request(path(key)).DELETE().build();
    return HttpCalls.future(calls.send(request, HttpResponse.BodyHandlers.ofString()).thenApply(response -> {
      if (response.statusCode() / 100 != 2) {
        throw HttpCalls.failure(response.statusCode(), response.body(), "DELETE " + key);
      }
      return null;
    }));
  }

  @Override
  public Future<FileList> list(String prefix, String delimiter, String cursor, int limit) {
    StringBuilder query = new StringBuilder("/r2/?limit=").append(limit);
    appendParam(query, "prefix", prefix);
    appendParam(query, "delimiter", delimiter);
    appendParam(query, "cursor", cursor);
    return HttpCalls.future(calls.getJson(query.toString()).thenApply(FileClientImpl::fileList));
  }

  @Override
  public void close() {
    calls.close();
  }

  private static FileList fileList(JsonObject body) {
    List<FileInfo> files = new ArrayList<>();
    JsonArray objects = body.getJsonArray("objects", new JsonArray());
    for (int i = 0; i < objects.size(); i++) {
      JsonObject object = objects.getJsonObject(i);
      JsonObject http = object.getJsonObject("httpMetadata", new JsonObject());
      files.add(new FileInfo(object.getString("key"), object.getLong("size", 0L), object.getString("etag"),
          http.getString("contentType"), String.valueOf(object.getValue("uploaded")),
          object.getJsonObject("customMetadata", new JsonObject())));
    }
    List<String> prefixes = new ArrayList<>();
    body.getJsonArray("delimitedPrefixes", new JsonArray()).forEach(p -> prefixes.add(String.valueOf(p)));
    return new FileList(files, body.getBoolean("truncated", false), body.getString("cursor"), prefixes);
  }

  private static FileInfo info(String key, HttpHeaders headers) {
    long size = headers.firstValue("Content-Range")
        .map(range -> range.substring(range.lastIndexOf('/') + 1))
        .filter(total -> !total.equals("*"))
        .map(Long::parseLong)
        .orElseGet(() -> headers.firstValueAsLong("Content-Length").orElse(-1));
    JsonObject custom = new JsonObject();
    headers.map().forEach((name, values) -> {
      if (name.toLowerCase(Locale.ROOT).startsWith("x-amz-meta-") && !values.isEmpty()) {
        custom.put(name.substring("x-amz-meta-".length()), values.get(0));
      }
    });
    // The header's entity tag is quoted (RFC 9110); listings give it bare: FileInfo always holds it bare.
    String etag = headers.firstValue("etag").map(tag -> tag.replaceAll("^\"|\"$", "")).orElse(null);
    return new FileInfo(key, size, etag,
        headers.firstValue("Content-Type").orElse(null), headers.firstValue("Last-Modified").map(FileClientImpl::isoInstant).orElse(null), custom);
  }

  /** HTTP dates (RFC 1123) as ISO-8601 instants, the form listings use; anything else as it is. */
  private static String isoInstant(String httpDate) {
    try {
      return Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(httpDate)).toString();
    } catch (DateTimeException e) {
      return httpDate;
    }
  }

  private static void copy(InputStream in, OutputStream out, long total, Progress progress) throws IOException {
    byte[] buffer = new byte[COPY_BUFFER];
    long copied = 0;
    int read;
    while ((read = in.read(buffer)) != -1) {
      out.write(buffer, 0, read);
      copied += read;
      progress.update(copied, total);
    }
    out.flush();
  }

  /** {@code /r2/} plus the key with each segment percent-encoded and the slashes kept. */
  static String path(String key) {
    if (key == null || key.isEmpty()) {
      throw new IllegalArgumentException("a file key must not be empty");
    }
    StringBuilder path = new StringBuilder("/r2/");
    String[] segments = key.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      path.append(i == 0 ? "" : "/").append(Protocol.percentEncode(segments[i]));
    }
    return path.toString();
  }

  private static void appendParam(StringBuilder query, String name, String value) {
    if (value != null && !value.isEmpty()) {
      query.append('&').append(name).append('=').append(Protocol.percentEncode(value));
    }
  }

  private static void closeQuietly(AutoCloseable closeable) {
    try {
      closeable.close();
    } catch (Exception e) {
      // Nothing left to do with a stream whose transfer is over; the transfer's own outcome is what counts.
    }
  }

  /** Counts the bytes the upload reads, for the progress callback. */
  private static final class CountingInputStream extends FilterInputStream {
    private final long total;
    private final Progress progress;
    private long count;

    CountingInputStream(InputStream in, long total, Progress progress) {
      super(in);
      this.total = total;
      this.progress = progress;
    }

    @Override
    public int read() throws IOException {
      int b = super.read();
      if (b != -1) {
        progress.update(++count, total);
      }
      return b;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
      int read = super.read(buffer, offset, length);
      if (read > 0) {
        count += read;
        progress.update(count, total);
      }
      return read;
    }
  }
}
