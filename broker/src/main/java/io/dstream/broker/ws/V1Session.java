package io.dstream.broker.ws;

import io.dstream.broker.auth.Permissions;
import io.dstream.broker.config.ConnectionLimits;
import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.limits.TokenBucket;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StoredObject;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.Subscriber;
import io.netty.channel.Channel;
import io.netty.handler.codec.http.websocketx.CloseWebSocketFrame;
import io.netty.handler.codec.http.websocketx.CorruptedWebSocketFrameException;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocketFrame;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One protocol v1 WebSocket attached to one subject's actor: it parses frames, turns them into
 * actor calls and writes replies and pushes.
 *
 * <p>Threading: frames arrive on the socket's context; actor callbacks arrive on the actor's
 * context and write directly (Vert.x socket writes are thread-safe). Acks and publishes of one
 * event-loop turn (one read from the socket) reach the actor in one task each kind, in the order
 * the client sent them ({@link TurnBatch}).
 *
 * <p>Memory: every byte the socket makes the broker hold is counted in its {@link SocketBudget}
 * (and so in the broker-wide budget): a request from the moment it is read until its reply has left
 * the broker (reserved as its frame's length plus {@link #REPLY_OVERHEAD}, and for {@code getState}
 * and {@code watchState} the largest state, since the reply carries it), and each push until it has
 * left (state pushes: {@link V1StateCommands}). A socket over its
 * limit gets no pushes (the actor asks {@link #mayPush}) and a request that does not fit is held,
 * with the socket paused (TCP backpressure), until the socket has drained to half its limit; a
 * socket that stays over its limit for the slow-consumer grace period is closed (1008). A request
 * that does not fit the broker-wide budget is refused with {@code overloaded}. The socket also
 * stops being read while {@code maxPendingRequests} requests await replies (until half are answered).
 *
 * <p>Closing: a close frame queues behind everything the client has not read yet, so every close
 * the broker decides (slow consumer, expired token, destroyed subject, oversized message) also
 * closes the TCP connection after {@link #CLOSE_FLUSH_MS} if the close handshake has not finished.
 * A frame that breaks the WebSocket protocol is answered with the close frame of its RFC 6455 code
 * (1002, 1007, 1009) before the connection closes.
 *
 * <p>Access: every request is checked against the socket's {@link Permissions} (publish, putState and
 * deleteMessages need publish rights; subscribe, info, getState and watchState need subscribe rights) and
 * against the socket's request-rate {@link TokenBucket}. A socket authenticated by an expiring token
 * is closed (1008) when the token expires.
 */
final class V1Session implements Subscriber {

  private static final Logger LOG = LoggerFactory.getLogger(V1Session.class);
  /** WebSocket close code (private range) for a subscriber whose subject was destroyed. */
  static final short SUBJECT_DESTROYED_CLOSE_CODE = 4410;
  /** Reserved per request beyond its frame's length: the envelope the broker adds to the reply. */
  static final int REPLY_OVERHEAD = 256;
  /** How long a close frame may take to leave before the TCP connection is closed under it. */
  static final long CLOSE_FLUSH_MS = 2_000;

  private final ServerWebSocket socket;
  /** The socket's TCP channel: a close that cannot wait for the close handshake goes around Vert.x. */
  private final Channel channel;
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
  private final int maxMessageBytes;
  private final SocketBudget budget;
  private final V1StateCommands state;
  private final AtomicInteger pendingRequests = new AtomicInteger();
  private volatile boolean pausedForRequests;
  /** Socket context only: frames read while a request waits for the socket to drain, in order. */
  private final ArrayDeque<String> heldFrames = new ArrayDeque<>();
  private boolean pausedForBudget;
  /** Set when the actor was refused a push; the next drain resumes it. */
  private final AtomicBoolean pushesWaiting = new AtomicBoolean();
  private final TurnBatch turn;
  private long expiryTimer = -1;
  private long pingTimer = -1;
  private final AtomicBoolean slowCheckScheduled = new AtomicBoolean();
  private volatile boolean closed;
  private final AtomicBoolean closing = new AtomicBoolean();

  V1Session(ServerWebSocket socket, Channel channel, Context context, StreamActor actor, String ip, int maxPendingRequests,
            BrokerMetrics metrics, V1FrameParser parser, Permissions permissions, ConnectionLimits limits,
            int maxMessageBytes, SocketBudget budget) {
    this.socket = socket;
    this.channel = channel;
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
    this.maxMessageBytes = maxMessageBytes;
    this.budget = budget;
    this.state = new V1StateCommands(this, actor, budget);
    this.turn = new TurnBatch(this, context, actor);
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
      closed = true;
      metrics.webSockets().decrementAndGet();
      if (expiryTimer >= 0) {
        context.owner().cancelTimer(expiryTimer);
      }
      context.owner().cancelTimer(pingTimer);
      if (state.watching()) {
        actor.unwatchState(state, (last, failure) -> { });
      }
      actor.detach(this);
      onClose.run();
    });
    pingTimer = context.owner().setPeriodic(limits.pingInterval().toMillis(), id -> {
      if (!closed) {
        socket.writePing(Buffer.buffer());
      }
    });
    if (permissions.expiresAtMs() != Long.MAX_VALUE) {
      long remainingMs = Math.max(1, permissions.expiresAtMs() - System.currentTimeMillis());
      expiryTimer = context.owner().setTimer(remainingMs, id -> {
        LOG.info("closing websocket of {} on '{}': token expired", permissions.who(), actor.subject());
        close((short) 1008, "token expired");
      });
    }
  }

  /**
   * Transport failures: the connection is closing for them. Vert.x runs this on the event loop
   * before it closes the channel, so for a protocol violation the close frame with its RFC code
   * goes out first (Vert.x's own decoder is set not to send it).
   */
  private void onException(Throwable failure) {
    LOG.debug("websocket on '{}' failed: {}", actor.subject(), failure.toString());
    if (failure instanceof CorruptedWebSocketFrameException violation && !closing.getAndSet(true)) {
      metrics.badFrames.increment();
      String reason = violation.getMessage() == null ? "protocol error" : violation.getMessage();
      channel.writeAndFlush(new CloseWebSocketFrame(violation.closeStatus().code(), truncated(reason)));
    }
  }

  /** A close reason must fit a control frame (125 bytes with the code). */
  private static String truncated(String reason) {
    return reason.length() <= 100 ? reason : reason.substring(0, 100);
  }

  /**
   * Closes with {@code code}; if the close frame cannot leave (the client reads nothing) the TCP
   * connection is closed after {@link #CLOSE_FLUSH_MS}, so the socket and what it holds go anyway.
   */
  private void close(short code, String reason) {
    if (closing.getAndSet(true)) {
      return;
    }
    socket.close(code, reason);
    context.owner().setTimer(CLOSE_FLUSH_MS, id -> {
      if (!closed) {
        // From the first handler's context the close skips Vert.x's handler, which would wait for the
        // close frame to leave first (it never does while the client reads nothing).
        channel.pipeline().firstContext().close();
      }
    });
  }

  private void onFrame(WebSocketFrame frame) {
    V1MessageAssembler.Message message;
    try {
      message = assembler.accept(frame);
    } catch (V1MessageAssembler.Violation violation) {
      LOG.debug("closing websocket on '{}': {}", actor.subject(), violation.getMessage());
      metrics.badFrames.increment();
      close(violation.closeCode, violation.getMessage());
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
    if (pausedForBudget) {
      heldFrames.add(text);
    } else if (!handle(text)) {
      holdUntilDrained(text);
    }
  }

  /** Serves one frame; false if it is a request that must wait until the socket drained. */
  private boolean handle(String text) {
    V1Frame frame;
    try {
      frame = parser.parse(text);
    } catch (V1FrameException e) {
      sendError(e.rawCMsgId, e.code, e.getMessage());
      return true;
    }
    if (frame.isAck()) {
      turn.ack(frame.ackId());
      return true;
    }
    boolean carriesState = "getState".equals(frame.command()) || "watchState".equals(frame.command());
    long reserved = text.length() + REPLY_OVERHEAD + (carriesState ? maxMessageBytes : 0);
    if (!budget.fits(reserved)) {
      return false;
    }
    if (!requestRate.tryTake(System.nanoTime())) {
      metrics.rateLimited.increment();
      sendError(frame.rawCMsgId(), V1ErrorCode.RATE_LIMITED, "more than " + limits.requestsPerSecond()
          + " requests per second (burst " + limits.requestBurst() + ") on this socket; slow down");
    } else if (!permitted(frame)) {
      metrics.forbidden.increment();
      LOG.info("forbidden: {} may not {} on '{}'", permissions.who(), describe(frame), actor.subject());
      sendError(frame.rawCMsgId(), V1ErrorCode.FORBIDDEN, "this credential may not " + describe(frame)
          + " on '" + actor.subject() + "'");
    } else if (!budget.tryReserve(reserved)) {
      metrics.overloaded.increment();
      sendError(frame.rawCMsgId(), V1ErrorCode.OVERLOADED, MemoryBudget.EXHAUSTED_MESSAGE);
    } else {
      beginRequest();
      if (frame.command() == null) {
        turn.publish(frame, reserved);
      } else {
        turn.flush();
        command(frame, reserved);
      }
    }
    return true;
  }

  /** Stops reading until the socket has drained; the frame and any read after it wait in order. */
  private void holdUntilDrained(String text) {
    heldFrames.addFirst(text);
    if (!pausedForBudget) {
      pausedForBudget = true;
      socket.pause();
    }
  }

  /** Socket context: serves the held frames while they fit, then reads again. */
  private void serveHeldFrames() {
    if (!pausedForBudget) {
      return;
    }
    pausedForBudget = false;
    while (!heldFrames.isEmpty()) {
      String text = heldFrames.poll();
      if (!handle(text)) {
        holdUntilDrained(text);
        return;
      }
    }
    resumeIfNothingHolds();
  }

  private boolean permitted(V1Frame frame) {
    if (frame.command() == null) {
      return mayPublish;
    }
    return switch (frame.command()) {
      case "putState", "deleteMessages" -> mayPublish;
      case "unsubscribe", "unwatchState" -> true;
      default -> maySubscribe;
    };
  }

  private static String describe(V1Frame frame) {
    return frame.command() == null ? "publish" : "run '" + frame.command() + "'";
  }

  /** A publish as an actor call: the stored object, at most once per dedup key when the frame asks. */
  StreamActor.Call<Published> publish(V1Frame frame, long reserved) {
    byte[] prefix = StoredObject.prefix(frame.rawData(), frame.rawCMsgId(), frame.rawClientId(), ip);
    long receivedNanos = System.nanoTime();
    String dedupKey = frame.dedup() ? StoredObject.dedupKey(frame.rawClientId(), frame.rawCMsgId()) : null;
    return new StreamActor.Call<>(tx -> tx.appendOnce(dedupKey, sequence -> StoredObject.withSequence(prefix, sequence)),
        (published, failure) -> {
          if (failure != null) {
            fail(frame, reserved, failure);
          } else {
            metrics.publishLatency.record(System.nanoTime() - receivedNanos, TimeUnit.NANOSECONDS);
            reply(published.duplicate() ? V1Json.duplicate(published.stored()) : published.stored(), reserved);
          }
        });
  }

  private void command(V1Frame frame, long reserved) {
    if (state.serve(frame, reserved)) {
      return;
    }
    switch (frame.command()) {
      case "getStreamInfo":
      case "getServerInfo":
        actor.info((info, failure) -> {
          if (failure != null) {
            fail(frame, reserved, failure);
          } else {
            reply(V1Json.reply(frame, ip, info.lastSequence(), V1Json.streamField(info)), reserved);
          }
        });
        break;
      case "subscribe":
        subscribe(frame, reserved);
        break;
      case "unsubscribe":
        actor.unsubscribe(this, (last, failure) -> answer(frame, reserved, last, failure, ""));
        break;
      case "deleteMessages":
        deleteMessages(frame, reserved);
        break;
      default:
        refuse(frame, reserved, V1ErrorCode.UNKNOWN_COMMAND, "unknown command '" + frame.command()
            + "'; known: getStreamInfo, subscribe, unsubscribe, deleteMessages, getState, putState, watchState,"
            + " unwatchState");
    }
  }

  private void subscribe(V1Frame frame, long reserved) {
    Object startTime = commandData(frame).getValue("startTime");
    if (startTime != null) {
      if (!(startTime instanceof Number)) {
        refuse(frame, reserved, V1ErrorCode.INVALID_ARGUMENT, "startTime must be a number: epoch milliseconds");
        return;
      }
      actor.subscribeFromTime(this, ((Number) startTime).longValue(),
          (last, failure) -> answer(frame, reserved, last, failure, ""));
      return;
    }
    Object start = commandData(frame).getValue("startSequence");
    if (start != null && !(start instanceof Number)) {
      refuse(frame, reserved, V1ErrorCode.INVALID_ARGUMENT, "startSequence must be a number");
      return;
    }
    long from = start == null ? 0 : (long) Math.ceil(((Number) start).doubleValue());
    actor.subscribe(this, from, (last, failure) -> answer(frame, reserved, last, failure, ""));
  }

  private void deleteMessages(V1Frame frame, long reserved) {
    Object sequence = commandData(frame).getValue("sequence");
    if (!(sequence instanceof Number) || ((Number) sequence).doubleValue() < 0
        || Double.isNaN(((Number) sequence).doubleValue())) {
      refuse(frame, reserved, V1ErrorCode.INVALID_ARGUMENT, "deleteMessages needs a sequence: a number >= 0");
      return;
    }
    long upTo = (long) Math.floor(((Number) sequence).doubleValue());
    actor.<Long>call(tx -> {
      tx.deleteUpTo(upTo);
      return tx.lastSequence();
    }, (last, failure) -> answer(frame, reserved, last, failure, ""));
  }

  /** Command arguments; the frame parser already proved {@code data} is a well-formed object. */
  static JsonObject commandData(V1Frame frame) {
    try {
      return new JsonObject(frame.rawData());
    } catch (DecodeException e) {
      return new JsonObject();
    }
  }

  void answer(V1Frame frame, long reserved, Long lastSequence, Throwable failure, String extraFields) {
    if (failure != null) {
      fail(frame, reserved, failure);
    } else {
      reply(V1Json.reply(frame, ip, lastSequence, extraFields), reserved);
    }
  }

  /** A request the broker could not carry out (counted by the actor, not as a bad frame). */
  private void fail(V1Frame frame, long reserved, Throwable failure) {
    StreamError error = StreamError.from(failure);
    if (error.kind() == StreamError.Kind.INTERNAL) {
      LOG.error("a request on '{}' failed", actor.subject(), failure);
    }
    reply(V1Json.error(frame.rawCMsgId(), V1ErrorCode.of(error), error.getMessage()), reserved);
  }

  /** A request the client got wrong. */
  void refuse(V1Frame frame, long reserved, V1ErrorCode code, String message) {
    metrics.badFrames.increment();
    reply(V1Json.error(frame.rawCMsgId(), code, message), reserved);
  }

  /**
   * Answers a request (begun with {@link #beginRequest}, {@code reserved} bytes held for it), from
   * either context; the reservation is released once the reply has left.
   */
  private void reply(String json, long reserved) {
    reply(json.getBytes(StandardCharsets.UTF_8), reserved);
  }

  /** As {@link #reply(String, long)}, for a reply that is already UTF-8 bytes (a stored object). */
  private void reply(byte[] json, long reserved) {
    endRequest();
    long beyond = Math.max(0, json.length - reserved);
    budget.add(beyond);
    write(json, reserved + beyond);
  }

  private void sendError(String rawCMsgId, V1ErrorCode code, String message) {
    metrics.badFrames.increment();
    byte[] json = V1Json.error(rawCMsgId, code, message).getBytes(StandardCharsets.UTF_8);
    budget.add(json.length);
    write(json, json.length);
  }

  /** Writes a frame whose {@code counted} bytes are held in the budget until it has left the broker. */
  private void write(byte[] json, long counted) {
    V1Json.writeText(socket, json).onComplete(ar -> released(counted));
    watchForSlowConsumer();
  }

  /**
   * Write completions, on the socket's context (a write to a closed socket fails at once, on the
   * writer's): a drained socket reads and takes pushes again. Held bytes are only released here,
   * on the same context that holds frames, so a frame is never held after the drain that frees it.
   */
  private void released(long bytes) {
    budget.release(bytes);
    if (!budget.drained()) {
      return;
    }
    if (pushesWaiting.compareAndSet(true, false)) {
      actor.resume(this);
    }
    state.drained();
    if (Vertx.currentContext() == context) {
      serveHeldFrames();
    } else {
      context.runOnContext(v -> serveHeldFrames());
    }
  }

  // ---- Subscriber ------------------------------------------------------------------------------

  /** A state watch's push (see {@link V1StateCommands}), counted until it has left. */
  void pushState(byte[] json) {
    budget.add(json.length);
    write(json, json.length);
  }

  @Override
  public void push(long sequence, long deliveryId, byte[] stored) {
    byte[] json = V1Json.push(StoredObject.forV1(stored, sequence), deliveryId);
    budget.add(json.length);
    write(json, json.length);
  }

  /**
   * The flag is set before the second look, so a drain that happens between the two either lets
   * the push through or finds the flag and resumes the actor: no push waits for a drain that passed.
   */
  @Override
  public boolean mayPush(boolean redelivery) {
    if (closing.get()) {
      return false;
    }
    if (budget.mayPush(redelivery)) {
      return true;
    }
    pushesWaiting.set(true);
    return budget.mayPush(redelivery);
  }

  /** The client's position means nothing in the new log: closing makes it reconnect and re-subscribe. */
  @Override
  public void subjectDestroyed() {
    close(SUBJECT_DESTROYED_CLOSE_CODE, "subject deleted");
  }

  /** Cluster mode: another node leads the subject now; the client reconnects and is relayed there. */
  @Override
  public void subjectMoved() {
    close((short) 1012, "subject moved to another node, reconnect");
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

  /**
   * Called after every write: the first time the socket is seen over its limit, a check is
   * scheduled for the end of the grace period; still over then, the socket is closed (1008).
   */
  private void watchForSlowConsumer() {
    if (!budget.over() || !slowCheckScheduled.compareAndSet(false, true)) {
      return;
    }
    context.owner().setTimer(limits.slowConsumerGrace().toMillis(), id -> {
      if (closed) {
        return;
      }
      if (budget.over()) {
        LOG.info("closing websocket of {} on '{}': {} bytes not taken for {} ms", permissions.who(), actor.subject(),
            budget.heldBytes(), limits.slowConsumerGrace().toMillis());
        metrics.slowConsumersClosed.increment();
        close((short) 1008, "slow consumer: outbound data not taken");
      } else {
        slowCheckScheduled.set(false);
        watchForSlowConsumer();
      }
    });
  }

  private void resumeIfNothingHolds() {
    if (!pausedForRequests && !pausedForBudget && !closed) {
      socket.resume();
    }
  }
}
