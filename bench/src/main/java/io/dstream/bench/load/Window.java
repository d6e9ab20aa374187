package io.dstream.bench.load;

import io.vertx.core.Future;
import io.vertx.core.Promise;

import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * Makes {@code count} calls with at most {@code inFlight} unanswered, starting the next one when one
 * is answered. Start it on an event-loop context and make the calls there, so every callback runs on
 * that one thread. The first failure, or the deadline passing, fails the whole window.
 */
final class Window {

  private final int count;
  private final IntFunction<Future<?>> call;
  private final Deadline deadline;
  private final String what;
  private final Promise<Void> done = Promise.promise();
  private int started;
  private int answered;

  private Window(int count, IntFunction<Future<?>> call, Deadline deadline, String what) {
    this.count = count;
    this.call = call;
    this.deadline = deadline;
    this.what = what;
  }

  /** {@code call} gets the index of the call, 0 to {@code count - 1}. */
  static Future<Void> run(int count, int inFlight, Deadline deadline, String what, IntFunction<Future<?>> call) {
    Window window = new Window(count, call, deadline, what);
    if (count == 0) {
      window.done.complete();
    }
    for (int i = 0; i < Math.min(inFlight, count); i++) {
      window.next();
    }
    return window.done.future();
  }

  private void next() {
    call.apply(started++).onComplete(result -> {
      if (result.failed()) {
        done.tryFail(result.cause());
      } else if (++answered == count) {
        done.tryComplete();
      } else if (started < count && !done.future().isComplete()) {
        try {
          deadline.check(what);
          next();
        } catch (TimeoutException e) {
          done.tryFail(e);
        }
      }
    });
  }
}
