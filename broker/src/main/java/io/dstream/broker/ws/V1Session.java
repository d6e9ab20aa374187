package io.dstream.broker.ws;

import io.dstream.broker.auth.Permissions;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.limits.TokenBucket;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.OverloadedException;
import io.dstream.broker.stream.PublishKey;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.Subscriber;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One protocol v1 WebSocket attached to one subject's actor: it parses frames, turns them into
 * actor calls and writes replies and pushes.
 *
 * <p>Threading: frames arrive on the socket's context; actor callbacks arrive on the actor's
 * context and write directly (Vert.x socket writes are thread-safe).
 *
 * <p>Flow control: the socket stops being read (TCP backpressure) while {@code maxPendingRequests}
 * requests await replies (until half are answered), and while its outbound queue is over the
 * high-water mark (until it drains: a client that does not read what it asked for stops being
 * heard). One client's flood is thereby bounded by its own socket, never by broker memory. A socket
 * whose outbound queue stays over the mark for the slow-consumer grace period is closed (1008).
 *
 * <p>Access: every request is checked against the socket's {@link Permissions} (publish, putState and
 * deleteMessages need publish rights; subscribe, info and getState need subscribe rights) and
 * against the socket's request-rate {@link TokenBucket}. A socket authenticated by an expiring token
 * is closed (1008) when the token expires.
 */
final class V1Session implements Subscriber {

  private static final Logger LOG = LoggerFactory.getLogger(V1Session.class);
  /** WebSocket close code (private range) for a subscriber whose subject was destroyed. */
  static final short SUBJECT_DESTROYED_CLOSE_CODE = 4410;

  private final ServerWebSocket socket;
  private final Context context;
  private final StreamActor actor;
  private final String ip;
  private final int maxPendingRequests;
  private final BrokerMetrics metrics;
  private final V1FrameParser parser;
  private final Permissions permissions;
  // Decided once: the socket is bound to one subject and its credential does not change while it is
  // open (an expiring token closes it). Matching the patterns per frame was 4 % of a publish.
  private final boolean mayPublish;
  private final boolean maySubscribe;
  private final ConnectionLimits limits;
  private final TokenBucket requestRate;
  private final V1MessageAssembler assembler;
  private final AtomicInteger pendingRequests = new AtomicInteger();
  private volatile boolean pausedForRequests;
  private boolean pausedForWrites;
  private long[] turnAcks = new long[64];
  private int turnAckCount;
  private long expiryTimer = -1;
  private long pingTimer = -1;
  private final AtomicBoolean slowCheckScheduled = new AtomicBoolean();

  V1Session(ServerWebSocket socket, Context context, StreamActor actor, String ip, int maxPendingRequests,
            BrokerMetrics metrics, V1FrameParser parser, Permissions permissions, ConnectionLimits limits,
            int maxMessageBytes) {
    this.socket = socket;
    this.context = context;
    this.actor = actor;
    this.ip = ip;
    this.maxPendingRequests = maxPendingRequests;
    this.metrics = metrics;
    this.parser = parser;
    this.permissions = permissions;
    this.mayPublish = permissions.mayPublish(actor.subject());
    this.maySubscribe = permissions.maySubscribe(actor.subject());
    this.limits = limits;
    this.requestRate = new TokenBucket(limits.requestsPerSecond(), limits.requestBurst(), System.nanoTime());
    this.assembler = new V1MessageAssembler(maxMessageBytes);
  }

  @Override
  public String description() {
    return "websocket " + ip + " (" + permissions.who() + ")";
  }

  /** Starts serving; {@code onClose} runs once when the socket closes. */
  void start(Runnable onClose) {
    metrics.webSockets().incrementAndGet();
    socket.frameHandler(this::onFrame);
    socket.exceptionHandler(this::onException);
    socket.closeHandler(v -> {
      metrics.webSockets().decrementAndGet();
      if (expiryTimer >= 0) {
        context.owner().cancelTimer(expiryTimer);
      }
      context.owner().cancelTimer(pingTimer);
      actor.detach(this);
      onClose.run();
    });
    pingTimer = context.owner().setPeriodic(limits.pingInterval().toMillis(), id -> {
      if (!socket.isClosed()) {
        socket.writePing(Buffer.buffer());
      }
    });
    if (permissions.expiresAtMs() != Long.MAX_VALUE) {
      long remainingMs = Math.max(1, permissions.expiresAtMs() - System.currentTimeMillis());
      expiryTimer = context.owner().setTimer(remainingMs, id -> {
        LOG.info("closing websocket of {} on '{}': token expired", permissions.who(), actor.subject());
        socket.close((short) 1008, "token expired");
      });
    }
  }

  /** Transport failures: the connection is already closing for them. */
  private void onException(Throwable failure) {
    LOG.debug("websocket on '{}' failed: {}", actor.subject(), failure.toString());
  }

  private void onFrame(WebSocketFrame frame) {
    V1MessageAssembler.Message message;
    try {
      message = assembler.accept(frame);
    } catch (V1MessageAssembler.Violation violation) {
      LOG.debug("closing websocket on '{}': {}", actor.subject(), violation.getMessage());
      metrics.badFrames.increment();
      socket.close(violation.closeCode, violation.getMessage());
      return;
    }
    if (message instanceof V1MessageAssembler.Text text) {
      onText(text.text());
    } else if (message instanceof V1MessageAssembler.Binary) {
      onBinary();
    }
  }

  private void onBinary() {
    sendError(null, V1ErrorCode.BINARY_FRAME, "binary frames are not supported; send JSON text frames");
  }

  private void onText(String text) {
    V1Frame frame;
    try {
      frame = parser.parse(text);
    } catch (V1FrameException e) {
      sendError(e.rawCMsgId, e.code, e.getMessage());
      return;
    }
    if (frame.isAck()) {
      queueAck(frame.ackId());
    } else if (!requestRate.tryTake(System.nanoTime())) {
      metrics.rateLimited.increment();
      sendError(frame.rawCMsgId(), V1ErrorCode.RATE_LIMITED, "more than " + limits.requestsPerSecond()
          + " requests per second (burst " + limits.requestBurst() + ") on this socket; slow down");
    } else if (!permitted(frame)) {
      metrics.forbidden.increment();
      LOG.info("forbidden: {} may not {} on '{}'", permissions.who(), describe(frame), actor.subject());
      sendError(frame.rawCMsgId(), V1ErrorCode.FORBIDDEN, "this credential may not " + describe(frame)
          + " on '" + actor.subject() + "'");
    } else {
      flushAcks();
      beginRequest();
      if (frame.command() == null) {
        publish(frame);
      } else {
        command(frame);
      }
    }
    pauseWhileWriteQueueFull();
  }

  /**
   * Acks of one event-loop turn (one read from the socket) go to the actor together: one hop instead
   * of one per ack, and the window refills in one pump whose pushes leave in one flush. A request
   * flushes the acks before it, so the actor sees every frame in the order the client sent it.
   */
  private void queueAck(long deliveryId) {
    if (turnAckCount == 0) {
      context.runOnContext(v -> flushAcks());
    }
    if (turnAckCount == turnAcks.length) {
      turnAcks = Arrays.copyOf(turnAcks, 2 * turnAcks.length);
    }
    turnAcks[turnAckCount++] = deliveryId;
  }

  private void flushAcks() {
    if (turnAckCount > 0) {
      long[] deliveryIds = Arrays.copyOf(turnAcks, turnAckCount);
      turnAckCount = 0;
      actor.ack(this, deliveryIds);
    }
  }

  private boolean permitted(V1Frame frame) {
    if (frame.command() == null) {
      return mayPublish;
    }
    return switch (frame.command()) {
      case "putState", "deleteMessages" -> mayPublish;
      case "unsubscribe" -> true;
      default -> maySubscribe;
    };
  }

  private static String describe(V1Frame frame) {
    return frame.command() == null ? "publish" : "run '" + frame.command() + "'";
  }

  private void publish(V1Frame frame) {
    String prefix = V1Json.envelopePrefix(frame, ip);
    long receivedNanos = System.nanoTime();
    String dedupKey = frame.dedup() ? PublishKey.of(frame.rawClientId(), frame.rawCMsgId()) : null;
    actor.publish(sequence -> V1Json.stored(prefix, sequence), dedupKey, (published, failure) -> {
      if (failure != null) {
        fail(frame, failure);
      } else {
        metrics.publishLatency.record(System.nanoTime() - receivedNanos, TimeUnit.NANOSECONDS);
        reply(published.duplicate() ? V1Json.duplicate(published.json()) : published.json());
      }
    });
  }

  private void command(V1Frame frame) {
    switch (frame.command()) {
      case "getStreamInfo":
      case "getServerInfo":
        actor.info((info, failure) -> {
          if (failure != null) {
            fail(frame, failure);
          } else {
            reply(V1Json.reply(frame, ip, info.lastSequence(), V1Json.streamField(info)));
          }
        });
        break;
      case "subscribe":
        subscribe(frame);
        break;
      case "unsubscribe":
        actor.unsubscribe(this, (last, failure) -> answer(frame, last, failure, ""));
        break;
      case "deleteMessages":
        deleteMessages(frame);
        break;
      case "getState":
        actor.getState((snapshot, failure) -> answer(frame, snapshot == null ? 0 : snapshot.lastSequence(), failure,
            snapshot == null ? "" : ",\"state\":" + new String(snapshot.stateJson(), StandardCharsets.UTF_8)));
        break;
      case "putState":
        putState(frame);
        break;
      default:
        refuse(frame, V1ErrorCode.UNKNOWN_COMMAND, "unknown command '" + frame.command()
            + "'; known: getStreamInfo, subscribe, unsubscribe, deleteMessages, getState, putState");
    }
  }

  private void subscribe(V1Frame frame) {
    Object startTime = commandData(frame).getValue("startTime");
    if (startTime != null) {
      if (!(startTime instanceof Number)) {
        refuse(frame, V1ErrorCode.INVALID_ARGUMENT, "startTime must be a number: epoch milliseconds");
        return;
      }
      actor.subscribeFromTime(this, ((Number) startTime).longValue(), (last, failure) -> answer(frame, last, failure, ""));
      return;
    }
    Object start = commandData(frame).getValue("startSequence");
    if (start != null && !(start instanceof Number)) {
      refuse(frame, V1ErrorCode.INVALID_ARGUMENT, "startSequence must be a number");
      return;
    }
    long from = start == null ? 0 : (long) Math.ceil(((Number) start).doubleValue());
    actor.subscribe(this, from, (last, failure) -> answer(frame, last, failure, ""));
  }

  private void deleteMessages(V1Frame frame) {
    Object sequence = commandData(frame).getValue("sequence");
    if (!(sequence instanceof Number) || ((Number) sequence).doubleValue() < 0
        || Double.isNaN(((Number) sequence).doubleValue())) {
      refuse(frame, V1ErrorCode.INVALID_ARGUMENT, "deleteMessages needs a sequence: a number >= 0");
      return;
    }
    long upTo = (long) Math.floor(((Number) sequence).doubleValue());
    actor.deleteMessages(upTo, (last, failure) -> answer(frame, last == null ? 0 : last, failure, ""));
  }

  private void putState(V1Frame frame) {
    Object state = commandData(frame).getValue("state");
    if (!(state instanceof JsonObject)) {
      refuse(frame, V1ErrorCode.INVALID_ARGUMENT, "putState needs a state that is a JSON object");
      return;
    }
    byte[] json = ((JsonObject) state).encode().getBytes(StandardCharsets.UTF_8);
    actor.putState(json, (last, failure) -> answer(frame, last == null ? 0 : last, failure, ""));
  }

  /** Command arguments; the frame parser already proved {@code data} is a well-formed object. */
  private static JsonObject commandData(V1Frame frame) {
    try {
      return new JsonObject(frame.rawData());
    } catch (DecodeException e) {
      return new JsonObject();
    }
  }

  private void answer(V1Frame frame, Long lastSequence, Throwable failure, String extraFields) {
    if (failure != null) {
      fail(frame, failure);
    } else {
      reply(V1Json.reply(frame, ip, lastSequence, extraFields));
    }
  }

  /** A request the broker could not carry out (counted by the actor, not as a bad frame). */
  private void fail(V1Frame frame, Throwable failure) {
    V1ErrorCode code = failure instanceof OverloadedException ? V1ErrorCode.OVERLOADED : V1ErrorCode.STORAGE_ERROR;
    reply(V1Json.error(frame.rawCMsgId(), code, failure.getMessage()));
  }

  /** A request the client got wrong. */
  private void refuse(V1Frame frame, V1ErrorCode code, String message) {
    metrics.badFrames.increment();
    reply(V1Json.error(frame.rawCMsgId(), code, message));
  }

  /** Answers a request (begun with {@link #beginRequest}), from either context. */
  private void reply(String json) {
    endRequest();
    socket.writeTextMessage(json);
  }

  private void sendError(String rawCMsgId, V1ErrorCode code, String message) {
    metrics.badFrames.increment();
    socket.writeTextMessage(V1Json.error(rawCMsgId, code, message));
  }

  // ---- Subscriber ------------------------------------------------------------------------------

  @Override
  public void push(long sequence, long deliveryId, String storedJson) {
    socket.writeTextMessage(V1Json.push(storedJson, deliveryId));
    watchForSlowConsumer();
  }

  /** The client's position means nothing in the new log: closing makes it reconnect and re-subscribe. */
  @Override
  public void subjectDestroyed() {
    socket.close(SUBJECT_DESTROYED_CLOSE_CODE, "subject deleted");
  }

  @Override
  public void unknownAck(long deliveryId) {
    sendError(null, V1ErrorCode.UNKNOWN_ACK, "no delivery with sMsgId " + deliveryId
        + " is pending (already acked, redelivered under a new sMsgId, or not subscribed)");
  }

  // ---- flow control ------------------------------------------------------------------------------

  private void beginRequest() {
    if (pendingRequests.incrementAndGet() >= maxPendingRequests && !pausedForRequests) {
      pausedForRequests = true;
      socket.pause();
    }
  }

  /** Called on the actor's or the socket's context; resuming always happens on the socket's. */
  private void endRequest() {
    if (pendingRequests.decrementAndGet() <= maxPendingRequests / 2 && pausedForRequests) {
      context.runOnContext(v -> {
        if (pausedForRequests && pendingRequests.get() <= maxPendingRequests / 2) {
          pausedForRequests = false;
          resumeIfNothingHolds();
        }
      });
    }
  }

  private void pauseWhileWriteQueueFull() {
    if (pausedForWrites || !socket.writeQueueFull()) {
      return;
    }
    pausedForWrites = true;
    socket.pause();
    socket.drainHandler(v -> {
      socket.drainHandler(null);
      pausedForWrites = false;
      resumeIfNothingHolds();
    });
  }

  /**
   * Called after pushes (on the actor's context): the first time the outbound queue is seen full,
   * a check is scheduled for the end of the grace period; a queue still full then closes the socket.
   */
  private void watchForSlowConsumer() {
    if (!socket.writeQueueFull() || !slowCheckScheduled.compareAndSet(false, true)) {
      return;
    }
    context.owner().setTimer(limits.slowConsumerGrace().toMillis(), id -> {
      if (socket.isClosed()) {
        return;
      }
      if (socket.writeQueueFull()) {
        LOG.info("closing websocket of {} on '{}': outbound queue full for {} ms", permissions.who(), actor.subject(),
            limits.slowConsumerGrace().toMillis());
        metrics.slowConsumersClosed.increment();
        socket.close((short) 1008, "slow consumer: outbound queue full");
      } else {
        slowCheckScheduled.set(false);
        watchForSlowConsumer();
      }
    });
  }

  private void resumeIfNothingHolds() {
    if (!pausedForRequests && !pausedForWrites && !socket.isClosed()) {
      socket.resume();
    }
  }
}
