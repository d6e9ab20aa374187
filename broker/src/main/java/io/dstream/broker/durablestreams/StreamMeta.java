package io.dstream.broker.durablestreams;

import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The Durable Streams metadata of one stream, kept as the view attributes of its subject (see
 * {@code SubjectRecord}) and so written by the stream's actor in the same commit as the messages it
 * describes.
 *
 * <p>On-disk format: UTF-8 JSON object, field names short and stable: {@code ct} content type,
 * {@code ttl} seconds, {@code exp} Expires-At as sent, {@code expMs} its instant, {@code closed},
 * {@code closedBy} {@code {id,epoch,seq}}, {@code producers} {@code {id:{epoch,seq,t}}}, {@code seq}
 * last Stream-Seq, {@code origin} the subject's last sequence when the stream was created (its
 * messages follow it), {@code from} fork source path, {@code base} fork position, {@code forkOffset}
 * and {@code forkSub} as requested, {@code refs} live forks reading through this stream,
 * {@code deleted} soft-deleted (gone for clients, kept for its forks), {@code created} epoch ms.
 *
 * <p>Not thread-safe: each step decodes its own copy.
 */
final class StreamMeta {

  /** The media type of streams in JSON mode (see {@link JsonMode}). */
  static final String JSON = "application/json";

  /** Producer state older than this is forgotten (as Kafka forgets idle producer ids). */
  static final long PRODUCER_STATE_TTL_MS = 7L * 24 * 60 * 60 * 1000;

  /** The last accepted tuple of one idempotent producer. */
  record Producer(long epoch, long lastSeq, long updatedMs) {
  }

  /** The producer tuple whose append closed the stream, for idempotent retries of that close. */
  record ClosedBy(String producerId, long epoch, long seq) {
  }

  String contentType;
  Long ttlSeconds;
  String expiresAt;
  long expiresAtMs;
  boolean closed;
  ClosedBy closedBy;
  final Map<String, Producer> producers = new LinkedHashMap<>();
  String lastStreamSeq;
  long origin;
  String forkedFrom;
  long forkBase;
  String forkOffset;
  long forkSubOffset;
  int refs;
  boolean softDeleted;
  long createdMs;

  /** Null when {@code attributes} is empty: the subject holds no Durable Streams stream. */
  static StreamMeta decode(byte[] attributes) {
    if (attributes == null || attributes.length == 0) {
      return null;
    }
    JsonObject json = new JsonObject(new String(attributes, StandardCharsets.UTF_8));
    StreamMeta meta = new StreamMeta();
    meta.contentType = json.getString("ct");
    meta.ttlSeconds = json.getLong("ttl");
    meta.expiresAt = json.getString("exp");
    meta.expiresAtMs = json.getLong("expMs", 0L);
    meta.closed = json.getBoolean("closed", false);
    JsonObject closedBy = json.getJsonObject("closedBy");
    if (closedBy != null) {
      meta.closedBy = new ClosedBy(closedBy.getString("id"), closedBy.getLong("epoch"), closedBy.getLong("seq"));
    }
    JsonObject producers = json.getJsonObject("producers", new JsonObject());
    for (String id : producers.fieldNames()) {
      JsonObject p = producers.getJsonObject(id);
      meta.producers.put(id, new Producer(p.getLong("epoch"), p.getLong("seq"), p.getLong("t")));
    }
    meta.lastStreamSeq = json.getString("seq");
    meta.origin = json.getLong("origin", 0L);
    meta.forkedFrom = json.getString("from");
    meta.forkBase = json.getLong("base", 0L);
    meta.forkOffset = json.getString("forkOffset");
    meta.forkSubOffset = json.getLong("forkSub", 0L);
    meta.refs = json.getInteger("refs", 0);
    meta.softDeleted = json.getBoolean("deleted", false);
    meta.createdMs = json.getLong("created", 0L);
    return meta;
  }

  byte[] encode() {
    JsonObject json = new JsonObject().put("ct", contentType).put("origin", origin).put("created", createdMs);
    if (ttlSeconds != null) {
      json.put("ttl", ttlSeconds);
    }
    if (expiresAt != null) {
      json.put("exp", expiresAt).put("expMs", expiresAtMs);
    }
    if (closed) {
      json.put("closed", true);
    }
    if (closedBy != null) {
      json.put("closedBy", new JsonObject().put("id", closedBy.producerId()).put("epoch", closedBy.epoch())
          .put("seq", closedBy.seq()));
    }
    if (!producers.isEmpty()) {
      JsonObject all = new JsonObject();
      producers.forEach((id, p) -> all.put(id, new JsonObject().put("epoch", p.epoch()).put("seq", p.lastSeq())
          .put("t", p.updatedMs())));
      json.put("producers", all);
    }
    if (lastStreamSeq != null) {
      json.put("seq", lastStreamSeq);
    }
    if (forkedFrom != null) {
      json.put("from", forkedFrom).put("base", forkBase).put("forkOffset", forkOffset).put("forkSub", forkSubOffset);
    }
    if (refs > 0) {
      json.put("refs", refs);
    }
    if (softDeleted) {
      json.put("deleted", true);
    }
    return json.encode().getBytes(StandardCharsets.UTF_8);
  }

  /** Logical position (as in offsets) of the subject's message {@code sequence}. */
  long position(long sequence) {
    return forkBase + sequence - origin;
  }

  /** Subject sequence of the message at logical {@code position} of this stream's own messages. */
  long sequence(long position) {
    return origin + position - forkBase;
  }

  /** Whether TTL or Expires-At has passed; {@code lastAccessMs} drives the TTL's sliding window. */
  boolean expired(long nowMs, long lastAccessMs) {
    if (expiresAt != null && nowMs >= expiresAtMs) {
      return true;
    }
    return ttlSeconds != null && nowMs >= lastAccessMs + ttlSeconds * 1000;
  }

  boolean jsonMode() {
    return JSON.equals(mediaType(contentType));
  }

  /** Base64 in SSE for anything that is not text or JSON. */
  boolean binaryForSse() {
    String media = mediaType(contentType);
    return !(media.startsWith("text/") || media.equals("application/json"));
  }

  void forgetIdleProducers(long nowMs) {
    Iterator<Producer> it = producers.values().iterator();
    while (it.hasNext()) {
      if (nowMs - it.next().updatedMs() > PRODUCER_STATE_TTL_MS) {
        it.remove();
      }
    }
  }

  /** The media type without parameters, lower-case; {@code application/octet-stream} when absent. */
  static String mediaType(String contentType) {
    if (contentType == null || contentType.isBlank()) {
      return "application/octet-stream";
    }
    int semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).trim().toLowerCase(Locale.ROOT);
  }
}
