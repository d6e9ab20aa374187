package io.dstream.client;

import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.json.JsonObject;
import java.util.List;

/**
 * A WebSocket connection to one subject's stream (protocol v1), opened by {@link DurableStream}. This is the
 * protocol-v1 API: it stays supported, and replays one subject from a sequence or a time with per-message acks (as
 * a JetStream consumer does); for messaging over many subjects (wildcards, headers, request/reply) use the NATS
 * protocol through {@link DurableStream#connectNats(ClientOptions)}.
 *
 * <p>Every request is answered by exactly one reply, matched by its {@code cMsgId}; the returned
 * future fails with a {@link StreamException} carrying the broker's error code, or one of the
 * client-side codes when the request times out, exceeds {@link ClientOptions#maxPendingRequests()}
 * or the connection closes first.
 *
 * <p>Reconnects: when the WebSocket is lost (broker restart, network failure) the connection reopens
 * it with exponential backoff and jitter ({@link ClientOptions#maxReconnectAttempts()}), resubscribes
 * after the last acknowledged sequence and sends again the requests still waiting for a reply that
 * are safe to repeat: publishes (the broker's dedup window stores each at most once and answers a
 * repeat with the original sequence), {@code info}, {@code getState}, {@code putState} (one with an
 * expected revision may then fail with {@link StreamException#WRONG_REVISION} if its first attempt was
 * written), {@code deleteMessages} and unsubscribe; a state watch is started again. A raw {@link #command(JsonObject)} is not repeated: it
 * fails with {@link StreamException#CONNECTION_CLOSED}. The error handler is told of each loss with
 * {@link StreamException#CONNECTION_LOST}. Refused credentials end the connection at once with an
 * {@link AuthenticationException}, as does giving up after the last attempt.
 *
 * <p>Thread-safety: all methods may be called from any thread. Replies, pushes and the error and
 * close handlers run on the Vert.x context the connection was opened from (a new event-loop context
 * when opened outside Vert.x), one at a time; handlers must not block it.
 */
public interface StreamConnection {

  /** @return the subject this connection reads and writes */
  String subject();

  /**
   * Appends a message to the subject's stream.
   *
   * @param data a {@link io.vertx.core.json.JsonObject} without a {@code "cmd"} field (the protocol
   *     reads such objects as commands), {@link io.vertx.core.json.JsonArray}, {@link String},
   *     {@link Number}, {@link Boolean} or {@code null}
   * @return the message's sequence, once the broker has written it durably
   */
  Future<Long> publish(Object data);

  /**
   * Publishes many messages in order without waiting for each reply: at most
   * {@link ClientOptions#publishWindow()} wait for their reply at once, the next one is sent as each
   * reply arrives. Stops sending at the first failure.
   *
   * @param data the messages, each as for {@link #publish(Object)}
   * @return the sequences in the order of {@code data}, or the first failure
   */
  Future<List<Long>> publishAll(List<?> data);

  /** @return the stream's current sequences, counts and size */
  Future<StreamInfo> info();

  /**
   * Subscribes this connection to its subject. This client allows one subscription per connection
   * (the broker would silently replace the first): unsubscribe first, or open another connection.
   *
   * @param options where to start and whether to acknowledge automatically
   * @param handler receives each message in sequence order, on the connection's context; a message
   *     not acknowledged within the broker's ack timeout is delivered again with the same sequence
   * @return the active subscription, once the broker confirmed; replayed messages follow
   */
  Future<Subscription> subscribe(SubscribeOptions options, Handler<StreamMessage> handler);

  /**
   * Deletes the retained messages whose sequence is at most {@code upToSequence}. Sequences are never
   * reused: the next publish continues after {@link StreamInfo#lastSequence()}.
   *
   * @param upToSequence the last sequence to delete
   * @return completes when the broker confirmed
   */
  Future<Void> deleteMessages(long upToSequence);

  /** @return the subject's state object, empty if none was stored */
  Future<JsonObject> getState();

  /** @return the subject's state object with its revision (0 and an empty object if none was stored) */
  Future<VersionedState> getVersionedState();

  /**
   * Replaces the subject's state object.
   *
   * @param state the new state
   * @return the state's new revision, when the broker confirmed
   */
  Future<Long> putState(JsonObject state);

  /**
   * Replaces the subject's state object if it is still at {@code expectedRevision} (optimistic
   * concurrency: read with {@link #getVersionedState()}, change, write back expecting what was read).
   *
   * @param state the new state
   * @param expectedRevision the revision the state must be at
   * @return the state's new revision; fails with {@link StreamException#WRONG_REVISION} (nothing written)
   *     when the state is at another revision
   */
  Future<Long> putState(JsonObject state, long expectedRevision);

  /**
   * Watches the subject's state: {@code handler} gets the current state first, then each change (see
   * {@link StateWatch}). One watch per connection; after a reconnect it is started again.
   *
   * @param handler receives each state with its revision, on the connection's context
   * @return the active watch, once the broker confirmed (the current state was handed over first)
   */
  Future<StateWatch> watchState(Handler<VersionedState> handler);

  /**
   * Sends a raw protocol command, for commands this interface has no method for yet.
   *
   * @param command an object with a {@code "cmd"} field and the command's arguments
   * @return the whole reply frame
   */
  Future<JsonObject> command(JsonObject command);

  /**
   * Sets the handler for errors not tied to a request: connection-level error frames from the broker,
   * frames the client cannot read, and transport failures. Without one they are logged.
   *
   * @param handler called on the connection's context, or null to log again
   * @return this connection
   */
  StreamConnection errorHandler(Handler<StreamException> handler);

  /**
   * Sets the handler called once when the connection closes, whoever closed it.
   *
   * @param handler called on the connection's context, or null for none
   * @return this connection
   */
  StreamConnection closeHandler(Handler<Void> handler);

  /**
   * Sets the handler called each time a lost connection is open again, after the subscription (if
   * any) was requested again and the waiting requests were sent again.
   *
   * @param handler called on the connection's context, or null for none
   * @return this connection
   */
  StreamConnection reconnectHandler(Handler<Void> handler);

  /** @return true once the connection is closed for good; requests then fail with {@link StreamException#CONNECTION_CLOSED} */
  boolean isClosed();

  /**
   * Closes the WebSocket, fails the requests still waiting for a reply, and releases the resources the
   * connection owns (including the Vert.x instance if {@link DurableStream} created it). Idempotent;
   * call it also after the broker closed the connection.
   *
   * @return completes when everything is released
   */
  Future<Void> close();
}
