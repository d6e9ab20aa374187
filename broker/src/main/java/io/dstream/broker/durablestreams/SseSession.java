package io.dstream.broker.durablestreams;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

/**
 * One {@code live=sse} response: catch-up, then live messages as they become durable. Every message
 * is an {@code event: data} followed by an {@code event: control} carrying the offset after it (and
 * {@code upToDate} when it is the last one known); a wait that times out sends a keep-alive control
 * event; a closed stream ends with {@code streamClosed} and the response ends. Binary streams send
 * their data base64-encoded (header {@code Stream-SSE-Data-Encoding: base64}); JSON streams send each
 * message as a JSON array.
 *
 * <p>Runs on the request's context until the client disconnects or the stream is closed or deleted;
 * each wait for a write is one actor call, which keeps the stream's actor in memory while it waits.
 */
final class SseSession {

  private final StreamAccess access;
  private final String subject;
  private final String path;
  private final HttpServerResponse response;
  private final Context caller;
  private final long waitTimeoutMs;
  private boolean disconnected;
  private boolean base64;
  private boolean json;
  private String cursor;

  SseSession(StreamAccess access, String subject, String path, HttpServerResponse response, Context caller,
             long waitTimeoutMs) {
    this.access = access;
    this.subject = subject;
    this.path = path;
    this.response = response;
    this.caller = caller;
    this.waitTimeoutMs = waitTimeoutMs;
  }

  /** Streams until the end; the future completes when the response has ended. */
  Future<Void> run(StreamAccess.Found found, ReadHandler.Read read) {
    StreamMeta meta = found.meta();
    base64 = meta.binaryForSse();
    json = meta.jsonMode();
    cursor = read.cursor();
    response.setChunked(true).setStatusCode(200)
        .putHeader("Content-Type", "text/event-stream")
        .putHeader("Cache-Control", "no-cache")
        .putHeader("Connection", "keep-alive");
    if (base64) {
      response.putHeader(Protocol.SSE_DATA_ENCODING, "base64");
    }
    response.closeHandler(v -> disconnected = true);
    long from = Offsets.BEFORE_START.equals(read.offset()) ? 0
        : Offsets.NOW.equals(read.offset()) ? found.tailPosition() : Offsets.position(read.offset());
    response.writeHead();
    return loop(found, from).andThen(done -> {
      if (!response.ended() && !response.closed()) {
        response.end();
      }
    });
  }

  private Future<Void> loop(StreamAccess.Found found, long from) {
    if (disconnected) {
      return Future.succeededFuture();
    }
    return access.read(found, from, caller).compose(chunk -> {
      if (disconnected) {
        return Future.succeededFuture();
      }
      long tail = found.tailPosition();
      boolean closed = found.meta().closed;
      Buffer events = Buffer.buffer();
      List<StreamAccess.Entry> entries = chunk.entries();
      long position = from;
      for (int i = 0; i < entries.size(); i++) {
        StreamAccess.Entry entry = entries.get(i);
        position = entry.position();
        events.appendString("event: data\n").appendString(data(payload(entry.payload())));
        boolean last = i == entries.size() - 1;
        events.appendString(control(position, last && chunk.upToDate(), last && closed && position >= tail));
      }
      if (entries.isEmpty()) {
        position = from;
        events.appendString(control(position, chunk.upToDate(), closed && position >= tail));
      }
      response.write(events);
      if (closed && position >= tail && chunk.upToDate()) {
        return Future.succeededFuture();
      }
      if (!chunk.upToDate()) {
        return loop(found, position);
      }
      return waitForMore(found, position);
    });
  }

  private Future<Void> waitForMore(StreamAccess.Found found, long position) {
    return access.awaitChange(subject, found.snapshot().version(), waitTimeoutMs, caller).compose(changed ->
        access.find(subject, path, caller).compose(now -> {
          if (disconnected || now.meta() == null || now.meta().softDeleted) {
            return Future.succeededFuture();
          }
          access.touch(path);
          if (!changed) {
            boolean closed = now.meta().closed && position >= now.tailPosition();
            response.write(control(position, true, closed));
            return closed ? Future.succeededFuture() : waitForMore(now, position);
          }
          if (now.tailPosition() <= position && !now.meta().closed) {
            return waitForMore(now, position);
          }
          return loop(now, position);
        }));
  }

  private String payload(byte[] message) {
    if (base64) {
      return Base64.getEncoder().encodeToString(message);
    }
    if (json) {
      return new String(JsonMode.response(List.of(message)), StandardCharsets.UTF_8);
    }
    return new String(message, StandardCharsets.UTF_8);
  }

  private String control(long position, boolean upToDate, boolean closed) {
    JsonObject control = new JsonObject().put(Protocol.SSE_NEXT_OFFSET, Offsets.format(position));
    if (closed) {
      control.put(Protocol.SSE_CLOSED, true);
    } else {
      control.put(Protocol.SSE_CURSOR, Cursors.next(cursor, System.currentTimeMillis()));
      if (upToDate) {
        control.put(Protocol.SSE_UP_TO_DATE, true);
      }
    }
    return "event: control\n" + data(control.encode());
  }

  /**
   * One SSE {@code data:} line per line of the payload: CR, LF and CRLF all split lines, so a payload
   * can never inject an event of its own.
   */
  private static String data(String payload) {
    StringBuilder out = new StringBuilder(payload.length() + 16);
    for (String line : payload.split("\r\n|\r|\n", -1)) {
      out.append("data:").append(line).append('\n');
    }
    return out.append('\n').toString();
  }
}
