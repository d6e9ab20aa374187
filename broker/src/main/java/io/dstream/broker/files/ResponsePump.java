package io.dstream.broker.files;

import io.dstream.broker.s3.S3Connection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.InputStream;

/**
 * Copies a blocking {@link InputStream} (an object from the MinIO SDK) to an HTTP response with
 * backpressure: one chunk is read on a transfer worker, written on the event loop, and the next
 * read starts only when the response's write queue has room. At most one chunk plus the
 * response's write queue is in memory, whatever the object's size.
 *
 * <p>Threading: the callbacks run on the request's context; the stream is only touched by one
 * worker read at a time and closed after the last one.
 */
final class ResponsePump {

  private static final Logger LOG = LoggerFactory.getLogger(ResponsePump.class);
  static final int CHUNK_BYTES = 256 * 1024;

  private final InputStream in;
  private final HttpServerResponse response;
  private final S3Connection s3;
  private boolean clientGone;

  private ResponsePump(InputStream in, HttpServerResponse response, S3Connection s3) {
    this.in = in;
    this.response = response;
    this.s3 = s3;
  }

  /** Starts copying; the response's status and headers must be set. Call on the request's context. */
  static void start(InputStream in, HttpServerResponse response, S3Connection s3) {
    ResponsePump pump = new ResponsePump(in, response, s3);
    response.closeHandler(v -> pump.clientGone = true);
    pump.next();
  }

  private void next() {
    if (clientGone) {
      close();
      return;
    }
    s3.transfer("read_object", () -> {
      byte[] chunk = in.readNBytes(CHUNK_BYTES);
      return chunk.length == 0 ? null : Buffer.buffer(chunk);
    }).onComplete(ar -> {
      if (ar.failed()) {
        LOG.warn("streaming an object to a client failed half-way: {}", ar.cause().toString());
        close();
        response.reset();
        return;
      }
      Buffer chunk = ar.result();
      if (chunk == null) {
        close();
        response.end();
        return;
      }
      response.write(chunk);
      if (response.writeQueueFull()) {
        response.drainHandler(v -> {
          response.drainHandler(null);
          next();
        });
      } else {
        next();
      }
    });
  }

  private void close() {
    s3.transfer("close_object", () -> {
      in.close();
      return null;
    });
  }
}
