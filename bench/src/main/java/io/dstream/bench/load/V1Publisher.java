package io.dstream.bench.load;

import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import org.HdrHistogram.Histogram;

/**
 * Publishes {@code count} messages on one protocol v1 socket with at most {@code window} unanswered,
 * sending the next one from the reply handler. Runs on the socket's event loop only.
 */
final class V1Publisher {

  private final WebSocket socket;
  private final int count;
  private final int window;
  private final Histogram roundTrips;
  private final Promise<Void> done = Promise.promise();
  private int sent;
  private int answered;
  private long lastSentNanos;
  long startNanos;
  long endNanos;

  /** {@code roundTrips} (window 1 only) records each publish's round trip in nanoseconds, or is null. */
  V1Publisher(WebSocket socket, int count, int window, Histogram roundTrips) {
    this.socket = socket;
    this.count = count;
    this.window = window;
    this.roundTrips = roundTrips;
    socket.textMessageHandler(this::onReply);
    socket.exceptionHandler(done::tryFail);
  }

  io.vertx.core.Future<Void> done() {
    return done.future();
  }

  /** Call on the socket's context. */
  void start() {
    startNanos = System.nanoTime();
    if (count == 0) {
      endNanos = startNanos;
      done.tryComplete();
      return;
    }
    while (sent < count && sent - answered < window) {
      send();
    }
  }

  private void send() {
    lastSentNanos = System.nanoTime();
    socket.writeTextMessage(Payload.v1Publish(lastSentNanos, ++sent));
  }

  private void onReply(String reply) {
    if (!reply.startsWith("{\"data\"")) {
      done.tryFail("publish refused: " + reply);
      return;
    }
    answered++;
    if (roundTrips != null) {
      roundTrips.recordValue(System.nanoTime() - lastSentNanos);
    }
    if (answered == count) {
      endNanos = System.nanoTime();
      done.tryComplete();
    } else if (sent < count) {
      send();
    }
  }
}
