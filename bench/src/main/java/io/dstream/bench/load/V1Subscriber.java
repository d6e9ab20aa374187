package io.dstream.bench.load;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;
import org.HdrHistogram.Histogram;

/**
 * Subscribes one protocol v1 socket and acks every push with the shortest valid ack,
 * {@code {"sMsgId":N}}, until {@code expected} pushes arrived. Runs on the socket's event loop only.
 */
final class V1Subscriber {

  private static final String DELIVERY_ID = "\"sMsgId\":";

  private final WebSocket socket;
  private final long expected;
  private final Histogram latency;
  private final Promise<Void> subscribed = Promise.promise();
  private final Promise<Void> done = Promise.promise();
  private long received;
  long endNanos;

  /** {@code latency} records publish-to-delivery times in nanoseconds, or is null. */
  V1Subscriber(WebSocket socket, long expected, Histogram latency) {
    this.socket = socket;
    this.expected = expected;
    this.latency = latency;
    socket.textMessageHandler(this::onText);
    socket.exceptionHandler(done::tryFail);
  }

  /** Call on the socket's context; the future completes when the broker answered the subscribe. */
  Future<Void> subscribe(long startSequence) {
    socket.writeTextMessage("{\"data\":{\"cmd\":\"subscribe\",\"startSequence\":" + startSequence
        + "},\"cMsgId\":\"subscribe\",\"clientId\":1}");
    return subscribed.future();
  }

  Future<Void> done() {
    return done.future();
  }

  long received() {
    return received;
  }

  private void onText(String text) {
    int id = text.lastIndexOf(DELIVERY_ID);
    if (id < 0) {
      if (text.startsWith("{\"data\"")) {
        subscribed.tryComplete();
      } else {
        subscribed.tryFail("subscribe refused: " + text);
        done.tryFail("error: " + text);
      }
      return;
    }
    socket.writeTextMessage("{\"sMsgId\":" + text.substring(id + DELIVERY_ID.length(), text.length() - 1) + "}");
    if (latency != null) {
      latency.recordValue(Math.max(0, System.nanoTime() - Payload.nanos(text)));
    }
    if (++received == expected) {
      endNanos = System.nanoTime();
      done.tryComplete();
    }
  }
}
