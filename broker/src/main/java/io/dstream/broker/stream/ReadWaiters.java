package io.dstream.broker.stream;

import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * The readers of one subject that wait for a write: records API long-polls parked until a sequence
 * becomes durable (each with its own timer), and Durable Streams long-polls and SSE sessions
 * waiting for the next durable write ({@link ChangeWaiters}, bounded). Every durable batch answers
 * the ones it satisfies; the timers answer the rest empty.
 *
 * <p>Threading: not thread-safe. Owned by one {@link StreamActor} and used on its context; the
 * timers fire on that context.
 */
final class ReadWaiters {

  /** Readers one subject lets wait for its next write (long-poll and SSE requests). */
  private static final int MAX_CHANGE_WAITERS = 10_000;

  /** A long-poll read waiting for {@code fromSequence} to become durable, until its timer fires. */
  private static final class Parked {
    final long fromSequence;
    final int limit;
    final BiConsumer<List<Published>, Throwable> onRead;
    long timerId;

    Parked(long fromSequence, int limit, BiConsumer<List<Published>, Throwable> onRead) {
      this.fromSequence = fromSequence;
      this.limit = limit;
      this.onRead = onRead;
    }
  }

  private final String subject;
  private final Context context;
  private final WritePipeline numbers;
  private final LogReader log;
  private final List<Parked> parked = new ArrayList<>();
  private final ChangeWaiters changeWaiters = new ChangeWaiters(MAX_CHANGE_WAITERS);

  ReadWaiters(String subject, Context context, WritePipeline numbers, LogReader log) {
    this.subject = subject;
    this.context = context;
    this.numbers = numbers;
    this.log = log;
  }

  /** Parks a read of {@code from} (not durable yet) for at most {@code waitMs}. */
  void park(long from, int limit, long waitMs, BiConsumer<List<Published>, Throwable> onRead) {
    Parked read = new Parked(from, limit, onRead);
    read.timerId = context.owner().setTimer(waitMs, id -> {
      if (parked.remove(read)) {
        onRead.accept(List.of(), null);
      }
    });
    parked.add(read);
  }

  /** Answers the parked read of {@code onRead} at once, empty; nothing if it is not parked. */
  void cancel(BiConsumer<List<Published>, Throwable> onRead) {
    for (Parked read : parked) {
      if (read.onRead == onRead) {
        parked.remove(read);
        context.owner().cancelTimer(read.timerId);
        onRead.accept(List.of(), null);
        return;
      }
    }
  }

  /** See {@link StreamActor#awaitChange}; {@code onChange} runs on the actor's context. */
  void awaitChange(long version, long timeoutMs, BiConsumer<Boolean, Throwable> onChange) {
    if (numbers.durableVersion() != version) {
      onChange.accept(true, null);
      return;
    }
    long[] waiterId = {-1};
    long timer = context.owner().setTimer(timeoutMs, t -> {
      if (changeWaiters.remove(waiterId[0])) {
        onChange.accept(false, null);
      }
    });
    waiterId[0] = changeWaiters.add(() -> onChange.accept(true, null), timer);
    if (waiterId[0] < 0) {
      context.owner().cancelTimer(timer);
      onChange.accept(null, StreamError.overloaded("too many readers wait on '" + subject + "'"));
    }
  }

  /** A batch became durable: wakes the change waiters and answers the parked reads it satisfies. */
  void durable() {
    changeWaiters.wakeAll().forEach(timer -> context.owner().cancelTimer(timer));
    if (parked.isEmpty()) {
      return;
    }
    List<Parked> ready = new ArrayList<>();
    parked.removeIf(read -> read.fromSequence <= numbers.lastDurable() && ready.add(read));
    for (Parked read : ready) {
      context.owner().cancelTimer(read.timerId);
      log.readDurable(read.fromSequence, read.limit, LogReader.PAGE_BYTES, read.onRead);
    }
  }

  /** The subject was destroyed: parked reads answer empty. */
  void destroyed() {
    List<Parked> all = new ArrayList<>(parked);
    parked.clear();
    for (Parked read : all) {
      context.owner().cancelTimer(read.timerId);
      read.onRead.accept(List.of(), null);
    }
  }

  boolean isEmpty() {
    return parked.isEmpty() && changeWaiters.isEmpty();
  }
}
