package io.dstream.broker.ws;

import io.dstream.broker.stream.StateSnapshot;
import io.dstream.broker.stream.StateWatcher;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.SubjectTransaction;

import java.nio.charset.StandardCharsets;

/**
 * Protocol v1's state commands on one socket ({@code getState}, {@code putState} with an optional
 * {@code expectedRevision}, {@code watchState}, {@code unwatchState}) and the pushes of its watch.
 *
 * <p>A watch push is {@code {"statePub":1,"revision":N,"state":{...}}} (the state last, as in replies): no {@code cMsgId} (it answers
 * no request) and no {@code pub}/{@code sMsgId} (it is not a message to ack). Each push is counted in
 * the socket's budget until it has left, as message pushes are. While the socket is over its budget
 * the newest change waits here, replacing an older one that waited: a watcher that keeps up sees
 * every change, one that does not skips to the newest when it drains (never missing the latest, in
 * revision order), and one that stops reading is closed as a slow consumer like any v1 socket.
 *
 * <p>Threading: commands arrive on the socket's context, changes on the actor's, drains on the
 * socket's; the waiting change and the writes of pushes are guarded by this object, so pushes leave
 * in revision order.
 */
final class V1StateCommands implements StateWatcher {

  private static final String STATE_PUSH = "{\"statePub\":1,\"revision\":";

  /** What a {@code putState} step answers. */
  private record Put(long lastSequence, long revision) {
  }

  private final V1Session session;
  private final StreamActor actor;
  private final SocketBudget budget;
  private boolean watching;
  /** The newest change not pushed yet because the socket was over its budget; null when none. */
  private byte[] waiting;

  V1StateCommands(V1Session session, StreamActor actor, SocketBudget budget) {
    this.session = session;
    this.actor = actor;
    this.budget = budget;
  }

  /** Serves a state command; false if {@code frame} is none. */
  boolean serve(V1Frame frame, long reserved) {
    switch (frame.command()) {
      case "getState" -> actor.getState((snapshot, failure) -> answerState(frame, reserved, snapshot, failure));
      case "putState" -> putState(frame, reserved);
      case "watchState" -> actor.watchState(this, (snapshot, failure) -> {
        if (failure == null) {
          synchronized (this) {
            watching = true;
          }
        }
        answerState(frame, reserved, snapshot, failure);
      });
      case "unwatchState" -> {
        stopWatching();
        actor.unwatchState(this, (last, failure) -> session.answer(frame, reserved, last, failure, ""));
      }
      default -> {
        return false;
      }
    }
    return true;
  }

  private void answerState(V1Frame frame, long reserved, StateSnapshot snapshot, Throwable failure) {
    session.answer(frame, reserved, snapshot == null ? 0 : snapshot.lastSequence(), failure, snapshot == null ? ""
        : ",\"revision\":" + snapshot.revision() + ",\"state\":" + new String(snapshot.stateJson(), StandardCharsets.UTF_8));
  }

  private void putState(V1Frame frame, long reserved) {
    // Kept as sent, like published data: decoding and encoding again would turn 1e400 into
    // "Infinity", 0.1000000000000000055511151231257827 into 0.1 and a lone surrogate into "?".
    String state = V1Json.rawObjectField(frame.rawData(), "state");
    if (state == null) {
      session.refuse(frame, reserved, V1ErrorCode.INVALID_ARGUMENT, "putState needs a state that is a JSON object");
      return;
    }
    Object expectedValue = V1Session.commandData(frame).getValue("expectedRevision");
    long expected = SubjectTransaction.ANY_REVISION;
    if (expectedValue != null) {
      if (!(expectedValue instanceof Number number) || number.doubleValue() < 0
          || number.doubleValue() != Math.floor(number.doubleValue()) || Double.isInfinite(number.doubleValue())) {
        session.refuse(frame, reserved, V1ErrorCode.INVALID_ARGUMENT,
            "expectedRevision must be a revision: an integer >= 0");
        return;
      }
      expected = number.longValue();
    }
    byte[] json = state.getBytes(StandardCharsets.UTF_8);
    long expectedRevision = expected;
    actor.<Put>call(tx -> new Put(tx.lastSequence(), tx.putState(json, expectedRevision)),
        (put, failure) -> session.answer(frame, reserved, put == null ? 0 : put.lastSequence(), failure,
            put == null ? "" : ",\"revision\":" + put.revision()));
  }

  /** Whether a watch is on, so the socket's close ends it. */
  synchronized boolean watching() {
    return watching;
  }

  private synchronized void stopWatching() {
    watching = false;
    waiting = null;
  }

  @Override
  public synchronized void state(byte[] stateJson, long revision) {
    if (!watching) {
      return;
    }
    byte[] push = (STATE_PUSH + revision + ",\"state\":" + new String(stateJson, StandardCharsets.UTF_8) + "}")
        .getBytes(StandardCharsets.UTF_8);
    if (session.mayPush(false)) {
      waiting = null;
      session.pushState(push);
    } else {
      waiting = push;
    }
  }

  /** The socket drained: the change that waited goes now. */
  synchronized void drained() {
    if (waiting != null && budget.mayPush(false)) {
      byte[] push = waiting;
      waiting = null;
      session.pushState(push);
    }
  }

  /** The watch ends with the subject: as its subscribers are, the socket is closed (4410). */
  @Override
  public void stateDestroyed() {
    stopWatching();
    session.subjectDestroyed();
  }
}
