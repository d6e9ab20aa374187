package io.dstream.broker.files;

import io.dstream.broker.s3.CallerStreamException;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;

/**
 * A request body as a blocking {@link InputStream}, for the MinIO SDK's uploads: the event loop
 * queues the chunks as they arrive, a worker thread reads them. The queue is bounded: above
 * {@link #HIGH_WATER_BYTES} the request is paused (TCP pushes back to the client) and below
 * {@link #LOW_WATER_BYTES} it is resumed, so an upload of any size holds at most about
 * {@code HIGH_WATER_BYTES} here.
 *
 * <p>Minimum rate: every {@code interval} the bytes received in it are compared with
 * {@code minBytes}; an interval in which the broker was ready for more all along (the request not
 * paused) and got less cuts the upload ({@code onTooSlow} runs, the reader fails). A client that
 * trickles a byte now and then would otherwise hold a transfer thread for as long as it likes.
 *
 * <p>Threading: the handlers and the rate timer run on the request's context, {@link #read} on one
 * worker thread; the queue is guarded by this object's monitor. Pause and resume always run on the
 * request's context.
 */
final class RequestBodyStream extends InputStream {

  static final long HIGH_WATER_BYTES = 4L * 1024 * 1024;
  static final long LOW_WATER_BYTES = 1024 * 1024;
  /** A client that sends nothing for this long has abandoned its upload. */
  private static final long STALL_TIMEOUT_MS = 120_000;

  private final HttpServerRequest request;
  private final Context context;
  private final ArrayDeque<Buffer> queue = new ArrayDeque<>();
  private long queuedBytes;
  private boolean paused;
  /** Request context only: the minimum-rate check. */
  private long rateTimer = -1;
  private long receivedInInterval;
  private boolean pausedInInterval;
  private boolean ended;
  private Throwable failure;
  private Buffer current;
  private int position;

  private RequestBodyStream(HttpServerRequest request, Context context) {
    this.request = request;
    this.context = context;
  }

  /**
   * Starts reading {@code request}; call on its context before anything else reads it. An upload
   * slower than {@code minBytes} per {@code intervalMs} is cut after {@code onTooSlow} ran.
   */
  static RequestBodyStream start(HttpServerRequest request, Context context, long minBytes, long intervalMs,
                                 Runnable onTooSlow) {
    RequestBodyStream stream = new RequestBodyStream(request, context);
    request.handler(stream::received);
    request.endHandler(v -> stream.finished(null));
    request.exceptionHandler(stream::finished);
    stream.rateTimer = context.owner().setPeriodic(intervalMs, id -> stream.checkRate(minBytes, onTooSlow));
    // The router pauses every request until a handler claims its body.
    request.resume();
    return stream;
  }

  private void checkRate(long minBytes, Runnable onTooSlow) {
    boolean tooSlow;
    boolean over;
    synchronized (this) {
      tooSlow = !ended && !pausedInInterval && !paused && receivedInInterval < minBytes;
      over = tooSlow || ended;
      receivedInInterval = 0;
      pausedInInterval = paused;
      if (tooSlow) {
        failure = new IOException("the upload delivered less than " + minBytes + " bytes in an interval");
        notifyAll();
      }
    }
    if (over) {
      stopRateCheck();
    }
    if (tooSlow) {
      onTooSlow.run();
    }
  }

  private void stopRateCheck() {
    if (rateTimer >= 0) {
      context.owner().cancelTimer(rateTimer);
      rateTimer = -1;
    }
  }

  private void received(Buffer chunk) {
    boolean pause;
    synchronized (this) {
      receivedInInterval += chunk.length();
      queue.add(chunk);
      queuedBytes += chunk.length();
      pause = !paused && queuedBytes >= HIGH_WATER_BYTES;
      if (pause) {
        paused = true;
        pausedInInterval = true;
      }
      notifyAll();
    }
    if (pause) {
      request.pause();
    }
  }

  private void finished(Throwable cause) {
    stopRateCheck();
    synchronized (this) {
      if (cause != null && failure == null) {
        failure = cause;
      }
      ended = true;
      notifyAll();
    }
  }

  /** The body is not wanted any more (the upload failed): drop what arrives and stop pushing back. */
  void discard() {
    context.runOnContext(v -> {
      stopRateCheck();
      if (!request.isEnded()) {
        request.handler(chunk -> { });
        request.resume();
      }
      synchronized (this) {
        queue.clear();
        queuedBytes = 0;
        failure = failure == null ? new IOException("upload abandoned") : failure;
        notifyAll();
      }
    });
  }

  @Override
  public int read() throws IOException {
    byte[] one = new byte[1];
    int n = read(one, 0, 1);
    return n < 0 ? -1 : one[0] & 0xff;
  }

  @Override
  public int read(byte[] target, int offset, int length) throws IOException {
    if (length == 0) {
      return 0;
    }
    Buffer chunk;
    synchronized (this) {
      if (!awaitData()) {
        return -1;
      }
      chunk = current;
    }
    int n = Math.min(length, chunk.length() - position);
    chunk.getBytes(position, position + n, target, offset);
    position += n;
    return n;
  }

  /** Waits until {@link #current} has unread bytes; false at the end of the body. Holds the monitor. */
  private boolean awaitData() throws IOException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(STALL_TIMEOUT_MS);
    while (current == null || position >= current.length()) {
      Buffer next = queue.poll();
      if (next != null) {
        current = next;
        position = 0;
        queuedBytes -= next.length();
        if (paused && queuedBytes <= LOW_WATER_BYTES) {
          paused = false;
          context.runOnContext(v -> request.resume());
        }
        continue;
      }
      if (failure != null) {
        throw new CallerStreamException("the upload's request failed: " + failure.getMessage(), failure);
      }
      if (ended) {
        return false;
      }
      long waitNanos = deadline - System.nanoTime();
      if (waitNanos <= 0) {
        throw new CallerStreamException("the client sent nothing for " + STALL_TIMEOUT_MS + " ms", null);
      }
      try {
        TimeUnit.NANOSECONDS.timedWait(this, waitNanos);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new CallerStreamException("interrupted while waiting for the upload", e);
      }
    }
    return true;
  }
}
