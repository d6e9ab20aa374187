package io.dstream.broker.nats;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One {@code SUB} of one connection: its id there ({@code sid}), its subject pattern and queue group
 * (null for none), and the auto-unsubscribe bound of a later {@code UNSUB sid max}.
 *
 * <p>Threading: delivered from any actor's context, so the count is atomic; the rest is fixed.
 */
final class Subscription {

  final NatsConnection connection;
  final String sid;
  final String subject;
  final String queue;
  /** The sid and the space after it as a {@code MSG} line carries them, encoded once. */
  final byte[] sidField;
  private final String[] tokens;
  private final AtomicLong delivered = new AtomicLong();
  /** {@code UNSUB sid max}: the most messages in all; {@link Long#MAX_VALUE} for no bound. */
  private volatile long max = Long.MAX_VALUE;
  /**
   * For a state watch of one literal subject ({@link StateApi#WATCH}), the last revision sent, so
   * that the current state sent when it starts and a change told meanwhile never arrive twice or out
   * of order; null for any other subscription. Guarded by itself.
   */
  final long[] stateWatch;

  Subscription(NatsConnection connection, String sid, String subject, String queue) {
    this.connection = connection;
    this.sid = sid;
    this.subject = subject;
    this.queue = queue;
    this.tokens = SubjectIndex.tokens(subject);
    this.sidField = (sid + " ").getBytes(StandardCharsets.UTF_8);
    String watched = StateApi.watched(subject);
    this.stateWatch = watched != null && !watched.contains("*") && !watched.contains(">") ? new long[] {-1} : null;
  }

  /**
   * Runs {@code send} for the state at {@code revision} unless this literal watch already sent that
   * revision or a later one; a change to revision 0 (a destroyed subject) always goes, the state read
   * when the watch started ({@code first}) only if nothing went before it. Any other subscription
   * always sends.
   */
  void deliverState(long revision, boolean first, Runnable send) {
    if (stateWatch == null) {
      send.run();
      return;
    }
    synchronized (stateWatch) {
      if (first ? stateWatch[0] < 0 : revision == 0 || revision > stateWatch[0]) {
        stateWatch[0] = revision;
        send.run();
      }
    }
  }

  String[] tokens() {
    return tokens;
  }

  String queue() {
    return queue;
  }

  /** {@code UNSUB sid max}: at most {@code max} messages in all, counting those already delivered. */
  void limit(long max) {
    this.max = max;
  }

  /**
   * Takes one delivery; false when the bound is used up (the message is not sent). True for the
   * last allowed one too: its sender then removes the subscription ({@link #exhausted}).
   */
  boolean take() {
    return delivered.incrementAndGet() <= max;
  }

  /** Whether the bound is used up. */
  boolean exhausted() {
    return delivered.get() >= max;
  }
}
