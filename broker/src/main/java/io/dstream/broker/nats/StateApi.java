package io.dstream.broker.nats;

import io.dstream.broker.stream.NatsStored;
import io.dstream.broker.stream.StateSnapshot;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.SubjectTransaction;
import io.dstream.broker.stream.Subjects;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;

/**
 * The versioned state of subjects over NATS, on reserved subjects: {@code $DS.STATE.GET.<subject>}
 * and {@code $DS.STATE.PUT.<subject>} are requests answered on their reply subject (errors in the
 * JetStream API's shape), {@code SUB $DS.STATE.WATCH.<subject or pattern>} is a watch: one message
 * per durable change, with the subject and revision in headers and the state as payload, after the
 * current state for a literal subject. Reading state needs subscribe rights on the subject, writing
 * it publish rights.
 *
 * <p>Threading: requests are served on the calling connection's context; watch messages are sent
 * from the stream actors' contexts ({@link CoreDelivery#stateChanged}).
 */
final class StateApi {

  static final String PREFIX = "$DS.STATE.";
  static final String GET = PREFIX + "GET.";
  static final String PUT = PREFIX + "PUT.";
  static final String WATCH = PREFIX + "WATCH.";
  /** The header of a put that must find the state at this revision (optimistic concurrency). */
  static final String EXPECTED_REVISION = "Ds-Expected-Revision";
  private static final byte[] EXPECTED_REVISION_KEY = "ds-expected-revision:".getBytes(StandardCharsets.US_ASCII);

  private static final String GET_CALL = "nats.state.get";
  private static final String PUT_CALL = "nats.state.put";

  private final NatsServer server;

  StateApi(NatsServer server) {
    this.server = server;
  }

  /**
   * Reading and writing a subject's state run on its actor, on the node leading it: in cluster mode
   * another node's requests and watches come here through {@link io.dstream.broker.cluster.LeaderCalls}.
   */
  void start() {
    server.calls.register(GET_CALL, (target, request, context) -> server.registry.<StateSnapshot>ask(target, context,
        StreamActor::getState).map(snapshot -> Buffer.buffer(snapshot.stateJson().length + 8)
        .appendLong(snapshot.revision()).appendBytes(snapshot.stateJson())));
    server.calls.register(PUT_CALL, (target, request, context) -> {
      long expected = request.getLong(0);
      byte[] state = request.getBytes(8, request.length());
      return server.registry.call(target, context, tx -> tx.putState(state, expected))
          .map(revision -> Buffer.buffer(8).appendLong(revision));
    });
  }

  /** The state of {@code target} and its revision, from the node leading it. */
  private Future<Buffer> state(String target) {
    return server.calls.call(target, GET_CALL, Buffer.buffer(0), true);
  }

  /** Serves a request to a subject under {@link #PREFIX}; the answer goes to {@code reply} (none without one). */
  void handle(NatsConnection connection, String subject, String reply, byte[] headers, byte[] payload) {
    // One connection's requests are answered in the order it sent them, as the JetStream API's are.
    connection.apiQueue = connection.apiQueue.transform(previous -> {
      Future<String> answer;
      try {
        answer = route(connection, subject, headers, payload);
      } catch (StreamError e) {
        answer = Future.failedFuture(e);
      }
      return answer.transform(ar -> {
        server.delivery.answer(reply, ar.succeeded() ? ar.result() : JetStreamErrors.of(ar.cause()));
        return Future.succeededFuture();
      });
    });
  }

  private Future<String> route(NatsConnection connection, String subject, byte[] headers, byte[] payload) {
    if (subject.startsWith(GET)) {
      String target = target(subject, GET);
      if (!connection.permissions().maySubscribe(target)) {
        throw forbidden("read the state of", target);
      }
      return state(target).map(answer -> "{\"subject\":" + StoredObject.quote(target) + ",\"state\":"
          + answer.getString(8, answer.length(), "UTF-8") + ",\"revision\":" + answer.getLong(0) + "}");
    }
    if (subject.startsWith(PUT)) {
      String target = target(subject, PUT);
      if (!connection.permissions().mayPublish(target) || NatsConnection.reserved(target)) {
        throw forbidden("change the state of", target);
      }
      long expected = expectedRevision(headers);
      byte[] state = stateObject(payload);
      // Not sent again after a timeout: the put may have been made, and the revision would move twice.
      return server.calls.call(target, PUT_CALL, Buffer.buffer(state.length + 8).appendLong(expected).appendBytes(state),
          false).map(answer -> "{\"subject\":" + StoredObject.quote(target) + ",\"revision\":" + answer.getLong(0) + "}");
    }
    throw StreamError.invalid("unknown_api", "unknown state API '" + subject + "': requests go to " + GET
        + "<subject> or " + PUT + "<subject>; watches are subscriptions to " + WATCH + "<subject>");
  }

  private static String target(String subject, String prefix) {
    String target = subject.substring(prefix.length());
    String violation = Subjects.violation(target);
    if (violation != null) {
      throw StreamError.invalid("invalid_subject", violation);
    }
    return target;
  }

  private static StreamError forbidden(String what, String subject) {
    return StreamError.invalid("forbidden", "this credential may not " + what + " '" + subject + "'");
  }

  private static long expectedRevision(byte[] headers) {
    String value = headers == null ? null : NatsStored.header(headers, 0, headers.length, EXPECTED_REVISION_KEY);
    if (value == null) {
      return SubjectTransaction.ANY_REVISION;
    }
    try {
      long revision = Long.parseLong(value);
      if (revision >= 0) {
        return revision;
      }
    } catch (NumberFormatException e) {
      // answered below
    }
    throw StreamError.invalid("invalid_revision", EXPECTED_REVISION + " must be a revision, a number >= 0, not '"
        + value + "'");
  }

  /** The payload, checked to be a JSON object and kept as sent (as v1's putState keeps it). */
  private static byte[] stateObject(byte[] payload) {
    try {
      new JsonObject(new String(payload, StandardCharsets.UTF_8));
      return payload;
    } catch (DecodeException | ClassCastException e) {
      throw StreamError.invalid("invalid_state", "the state must be a JSON object");
    }
  }

  /** For a {@code SUB} to {@link #WATCH}: the subject pattern whose state it watches, or null for another subject. */
  static String watched(String subscribed) {
    return subscribed.startsWith(WATCH) ? subscribed.substring(WATCH.length()) : null;
  }

  /**
   * A new watch of one literal subject gets the current state first, from the node leading the
   * subject; a change that overtook it is not undone ({@link Subscription#deliverState} drops a
   * revision older than what the watch had).
   */
  void watchStarted(Subscription subscription) {
    String target = watched(subscription.subject);
    if (target == null || subscription.stateWatch == null || Subjects.violation(target) != null) {
      return;
    }
    state(target).onSuccess(answer -> server.delivery.stateTo(subscription, target,
        answer.getBytes(8, answer.length()), answer.getLong(0)));
  }

  /** The header block of a watch message: the subject and the revision. */
  static byte[] watchHeaders(String subject, long revision) {
    return ("NATS/1.0\r\nDs-Subject: " + subject + "\r\nDs-Revision: " + revision + "\r\n\r\n")
        .getBytes(StandardCharsets.UTF_8);
  }
}
