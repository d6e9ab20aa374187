package io.dstream.broker.stream;

import java.util.ArrayDeque;
import java.util.function.Consumer;

/**
 * The way into a {@link StreamActor} for its requests, by the subject's phase: while the subject
 * loads, and while a destroy becomes durable, they wait here in call order; while it is ready they
 * run at once; once its load failed (or the actor was deposed) they are refused.
 *
 * <p>Threading: the actor's context only.
 */
final class RequestGate {

  private enum Phase { LOADING, READY, DESTROYING, FAILED }

  /** A request waiting for the load (or a destroy), with the way to refuse it if the load fails. */
  private record Deferred(Runnable task, Consumer<Throwable> onFailure) {
  }

  private final LogReader log;
  private final ArrayDeque<Deferred> deferred = new ArrayDeque<>();
  private Throwable failure;
  private Phase phase = Phase.LOADING;

  /** A gate of a loading subject; {@code log} is told of every task that starts. */
  RequestGate(LogReader log) {
    this.log = log;
  }

  boolean ready() {
    return phase == Phase.READY;
  }

  boolean refusing() {
    return phase == Phase.FAILED;
  }

  /** Runs {@code task} now, makes it wait, or refuses it through {@code onFailure}, as the phase says. */
  void run(Runnable task, Consumer<Throwable> onFailure) {
    switch (phase) {
      case LOADING, DESTROYING -> deferred.add(new Deferred(task, onFailure));
      case FAILED -> onFailure.accept(StreamError.from(failure));
      default -> {
        log.taskStarted();
        task.run();
      }
    }
  }

  /** A destroy starts: requests wait until it is durable or failed. */
  void destroying() {
    phase = Phase.DESTROYING;
  }

  /** The subject is ready: requests run at once, and {@link #runWaiting} runs those that waited. */
  void open() {
    phase = Phase.READY;
  }

  /** Runs the requests that waited, in order, until one of them starts a new wait (a destroy). */
  void runWaiting() {
    while (phase == Phase.READY && !deferred.isEmpty()) {
      log.taskStarted();
      deferred.poll().task().run();
    }
  }

  /**
   * Refuses the requests that wait with {@code reason} as it is, and every one to come with its
   * {@link StreamError}: the subject could not be loaded, or another node runs it now.
   */
  void refuse(Throwable reason) {
    phase = Phase.FAILED;
    failure = reason;
    deferred.forEach(d -> d.onFailure().accept(failure));
    deferred.clear();
  }
}
