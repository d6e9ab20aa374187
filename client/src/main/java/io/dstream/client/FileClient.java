package io.dstream.client;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The broker's file API ({@code /r2/{key}} on the S3 bucket), opened by {@link DurableStream#files(ClientOptions)}.
 * Bodies stream in both directions, so file size is not bounded by memory.
 *
 * <p>Failures: {@link AuthenticationException} for refused credentials, {@link StreamException} with
 * code {@link #NOT_FOUND} for a missing key on {@link #get}/{@link #head}, {@code connect_failed} when
 * the broker is unreachable, and the broker's code otherwise (e.g. {@code range_not_satisfiable}
 * for a range beyond the file). Thread-safe; progress callbacks run on a client thread and must not block.
 */
public interface FileClient extends AutoCloseable {

  /** The code of a missing key. */
  String NOT_FOUND = "not_found";

  /** Receives transfer progress: bytes so far and the total, or -1 when unknown. */
  @FunctionalInterface
  interface Progress {
    /** No progress reporting. */
    Progress NONE = (transferred, total) -> { };

    void update(long transferred, long total);
  }

  /**
   * A byte range of a file, in the forms of RFC 9110: {@link #of}, {@link #from} or {@link #last}.
   *
   * @param first first byte (inclusive), or -1 for a suffix range
   * @param last last byte (inclusive), -1 for "to the end", or the suffix length when {@code first} is -1
   */
  record ByteRange(long first, long last) {
    /** @return bytes {@code first} to {@code last}, both inclusive */
    public static ByteRange of(long first, long last) {
      return new ByteRange(first, last);
    }

    /** @return bytes from {@code first} to the end */
    public static ByteRange from(long first) {
      return new ByteRange(first, -1);
    }

    /** @return the last {@code length} bytes */
    public static ByteRange last(long length) {
      return new ByteRange(-1, length);
    }

    /** @return the {@code Range} header value */
    public String header() {
      return first < 0 ? "bytes=-" + last : "bytes=" + first + "-" + (last < 0 ? "" : Long.toString(last));
    }
  }

  /**
   * A stored file's description.
   *
   * @param key the key
   * @param size the size in bytes (of the whole file, also after a ranged get)
   * @param etag the entity tag, without quotes
   * @param contentType the stored content type, or null
   * @param uploaded the upload time as an ISO-8601 instant, or null
   * @param customMetadata the {@code x-amz-meta-*} values, possibly empty
   */
  record FileInfo(String key, long size, String etag, String contentType, String uploaded, JsonObject customMetadata) {
  }

  /**
   * One page of a listing.
   *
   * @param files the files on this page
   * @param truncated whether more follow
   * @param cursor what to pass to get the next page, or null
   * @param delimitedPrefixes the common prefixes when a delimiter was given
   */
  record FileList(List<FileInfo> files, boolean truncated, String cursor, List<String> delimitedPrefixes) {
  }

  /**
   * A link that lets anyone who holds it download one file, without a credential, until it expires.
   *
   * @param url the full URL (broker URL, key and signature)
   * @param expires when it stops working, as an ISO-8601 instant
   */
  record ShareLink(String url, String expires) {
  }

  /**
   * Uploads a file.
   *
   * @param key the key, 1 to 1024 bytes of UTF-8
   * @param file the file to send
   * @param contentType stored with the file, or null for {@code application/octet-stream}
   * @param progress told of the bytes sent
   * @return the stored file's description
   */
  Future<FileInfo> put(String key, Path file, String contentType, Progress progress);

  /**
   * Uploads a stream, which is read to its end and closed.
   *
   * @param key the key
   * @param body the bytes to send
   * @param length the number of bytes, or -1 when unknown (sent chunked)
   * @param contentType stored with the file, or null for {@code application/octet-stream}
   * @param progress told of the bytes sent
   * @return the stored file's description
   */
  Future<FileInfo> put(String key, InputStream body, long length, String contentType, Progress progress);

  /**
   * Downloads a file (or a range of it) into {@code target}, replacing it once the download is
   * complete; a failed download leaves {@code target} as it was (no partial file).
   *
   * @param range the bytes to get, or null for all
   * @return the file's description
   */
  Future<FileInfo> get(String key, Path target, ByteRange range, Progress progress);

  /**
   * Downloads a file (or a range of it) into {@code target}, which is not closed.
   *
   * @param range the bytes to get, or null for all
   * @return the file's description
   */
  Future<FileInfo> get(String key, OutputStream target, ByteRange range, Progress progress);

  /**
   * Asks the broker to sign a link to a file ({@code GET /r2/{key}?share=SECONDS}, needs read permission on the key).
   *
   * @param lifetime how long the link works, at most the broker's {@code DSTREAM_FILES_MAX_SHARE_SECONDS}
   * @return the link
   */
  Future<ShareLink> share(String key, Duration lifetime);

  /** @return the file's description, without its bytes */
  Future<FileInfo> head(String key);

  /** Deletes a file; deleting a missing key succeeds too. */
  Future<Void> delete(String key);

  /**
   * Lists files in key order.
   *
   * @param prefix only keys starting with it, or null
   * @param delimiter groups keys by the part up to it into {@link FileList#delimitedPrefixes()}, or null
   * @param cursor from a previous page, or null for the first
   * @param limit the most files on the page, 1 to 1000
   * @return one page
   */
  Future<FileList> list(String prefix, String delimiter, String cursor, int limit);

  /** Releases the client's threads. */
  @Override
  void close();
}
