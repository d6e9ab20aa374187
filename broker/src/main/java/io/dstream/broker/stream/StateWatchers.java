package io.dstream.broker.stream;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashSet;
import java.util.Set;

/**
 * Who hears of the subject's state changes: its {@link StateWatcher}s, and the {@link DurableTap}
 * for watchers not bound to one subject (NATS). Every durable change is announced once, with its own
 * state and revision, in revision order (the completions of a batch run in queue order), also when
 * several changes share one commit.
 *
 * <p>Threading: not thread-safe. Owned by one {@link StreamActor} and used on its context only.
 */
final class StateWatchers {

  private static final byte[] EMPTY_STATE = "{}".getBytes(StandardCharsets.UTF_8);

  private final String subject;
  private final DurableTap tap;
  private final Set<StateWatcher> watchers = new LinkedHashSet<>();

  StateWatchers(String subject, DurableTap tap) {
    this.subject = subject;
    this.tap = tap;
  }

  void add(StateWatcher watcher) {
    watchers.add(watcher);
  }

  void remove(StateWatcher watcher) {
    watchers.remove(watcher);
  }

  boolean isEmpty() {
    return watchers.isEmpty();
  }

  /** A state put became durable at {@code revision}. */
  void changed(byte[] stateJson, long revision) {
    for (StateWatcher watcher : watchers) {
      watcher.state(stateJson, revision);
    }
    tap.stateChanged(subject, stateJson, revision);
  }

  /** The subject's removal became durable: bound watchers are told and dropped, the tap sees {@code {}} at revision 0. */
  void destroyed() {
    Set<StateWatcher> told = Set.copyOf(watchers);
    watchers.clear();
    told.forEach(StateWatcher::stateDestroyed);
    tap.stateChanged(subject, EMPTY_STATE, 0);
  }
}
