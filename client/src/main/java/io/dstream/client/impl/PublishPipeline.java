package io.dstream.client.impl;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;

/**
 * Publishes a list in order with at most {@code window} publishes waiting for their reply: each reply
 * sends the next one. The first failure stops sending and fails the result; publishes already sent
 * still complete on their own. Thread-safe: replies may arrive on any thread, so the cursor is guarded
 * by this object's monitor.
 */
final class PublishPipeline {

  /**
   * The connection's context: the first window is sent from there too, so that every publish is
   * numbered and written by one thread in order (sent from the caller's thread, a reply's refill on
   * the context could overtake a publish of the first window).
   */
  private final Context context;
  private final List<Object> payloads;
  private final int window;
  private final Function<Object, Future<Long>> publisher;
  private final long[] sequences;
  private final Promise<List<Long>> result = Promise.promise();
  private int nextIndex;
  private int completed;
  private boolean failed;

  PublishPipeline(List<Object> payloads, int window, Function<Object, Future<Long>> publisher, Context context) {
    this.context = context;
    this.payloads = payloads;
    this.window = window;
    this.publisher = publisher;
    this.sequences = new long[payloads.size()];
  }

  Future<List<Long>> start() {
    if (payloads.isEmpty()) {
      return Future.succeededFuture(List.of());
    }
    context.runOnContext(v -> {
      for (int i = 0; i < window; i++) {
        sendNext();
      }
    });
    return result.future();
  }

  private void sendNext() {
    int index;
    synchronized (this) {
      if (failed || nextIndex >= payloads.size()) {
        return;
      }
      index = nextIndex++;
    }
    publisher.apply(payloads.get(index)).onComplete(ar -> {
      boolean done;
      synchronized (this) {
        if (failed) {
          return;
        }
        failed = ar.failed();
        if (!failed) {
          sequences[index] = ar.result();
        }
        done = ++completed == payloads.size();
      }
      if (ar.failed()) {
        result.fail(ar.cause());
      } else if (done) {
        result.complete(Arrays.stream(sequences).boxed().toList());
      } else {
        sendNext();
      }
    });
  }
}
