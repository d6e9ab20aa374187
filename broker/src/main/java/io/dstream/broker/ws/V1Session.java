package io.dstream.broker.ws;

import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.stream.OverloadedException;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.Subscriber;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.AtomicInteger;

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
 * heard). One client's flood is thereby bounded by its own socket, never by broker memory.
 */
final class V1Session implements Subscriber {

  private static final Logger LOG = LoggerFactory.getLogger(V1Session.class);

  private final ServerWebSocket socket;
  private final Context context;
  private final StreamActor actor;
  private final String ip;
  private final int maxPendingRequests;
  private final BrokerMetrics metrics;
  private final V1FrameParser parser;
  private final AtomicInteger pendingRequests = new AtomicInteger();
  private volatile boolean pausedForRequests;
  private boolean pausedForWrites;
  private long[] turnAcks = new long[64];
  private int turnAckCount;

  V1Session(ServerWebSocket socket, Context context, StreamActor actor, String ip, int maxPendingRequests,
            BrokerMetrics metrics, V1FrameParser parser) {
    this.socket = socket;
    this.context = context;
    this.actor = actor;
    this.ip = ip;
    this.maxPendingRequests = maxPendingRequests;
    this.metrics = metrics;
    this.parser = parser;
  }

  void start() {
    metrics.webSockets().incrementAndGet();
    socket.textMessageHandler(this::onText);
    socket.binaryMessageHandler(this::onBinary);
    socket.exceptionHandler(this::onException);
    socket.closeHandler(v -> {
      metrics.webSockets().decrementAndGet();
      actor.detach(this);
    });
  }

  /**
   * Vert.x reports a message over the size limit here (as an IllegalStateException) without
   * closing; everything else here is a transport failure the connection is already closing for.
   */
  private void onException(Throwable failure) {
    if (failure instanceof IllegalStateException && !socket.isClosed()) {
      LOG.debug("closing websocket on '{}': {}", actor.subject(), failure.getMessage());
      socket.close((short) 1009, "message too big");
      return;
    }
    LOG.debug("websocket on '{}' failed: {}", actor.subject(), failure.toString());
  }

  private void onBinary(Buffer ignored) {
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

  private void publish(V1Frame frame) {
    String prefix = V1Json.envelopePrefix(frame, ip);
    actor.publish(sequence -> V1Json.stored(prefix, sequence), (published, failure) -> {
      if (failure != null) {
        fail(frame, failure);
      } else {
        reply(published.json());
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

  private void resumeIfNothingHolds() {
    if (!pausedForRequests && !pausedForWrites && !socket.isClosed()) {
      socket.resume();
    }
  }
}
