package io.dstream.broker.stream;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Readers of one subject waiting for its next durable write (HTTP long-poll and SSE of the Durable
 * Streams view). Bounded: {@link #add} refuses when {@code capacity} waiters are registered. Not
 * thread-safe: owned by one {@link StreamActor} and used on its context only.
 */
final class ChangeWaiters {

  /** A registered waiter: {@code onChange} runs once on the next write, unless removed first. */
  private record Waiter(Runnable onChange, long timerId) {
  }

  private final int capacity;
  private final Map<Long, Waiter> waiting = new LinkedHashMap<>();
  private long nextId;

  ChangeWaiters(int capacity) {
    this.capacity = capacity;
  }

  /** Registers a waiter; returns its id, or -1 when full. */
  long add(Runnable onChange, long timerId) {
    if (waiting.size() >= capacity) {
      return -1;
    }
    long id = nextId++;
    waiting.put(id, new Waiter(onChange, timerId));
    return id;
  }

  /** Removes a waiter (its timeout fired); returns false if it already woke. */
  boolean remove(long id) {
    return waiting.remove(id) != null;
  }

  /** Wakes every waiter; returns the timer ids to cancel. */
  List<Long> wakeAll() {
    List<Waiter> woken = new ArrayList<>(waiting.values());
    waiting.clear();
    List<Long> timers = new ArrayList<>(woken.size());
    for (Waiter waiter : woken) {
      timers.add(waiter.timerId());
      waiter.onChange().run();
    }
    return timers;
  }

  boolean isEmpty() {
    return waiting.isEmpty();
  }
}
