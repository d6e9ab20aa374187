package io.dstream.client.impl;

import io.dstream.client.ClientOptions;
import io.dstream.client.StreamConnection;
import io.dstream.client.StreamException;
import io.dstream.client.StreamInfo;
import io.dstream.client.StreamMessage;
import io.dstream.client.SubscribeOptions;
import io.dstream.client.Subscription;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.lang.System.Logger.Level;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One WebSocket to one subject, speaking protocol v1.
 *
 * <p>Threading: requests, acks and {@link #close()} may come from any thread; they touch only the
 * thread-safe {@link PendingRequests}, the atomic subscription slot and the socket, whose writes
 * Vert.x serializes. Everything the socket delivers (replies, pushes, errors, the close) and the
 * request-expiry timer run on the context the connection was opened from, so pushes reach the
 * subscription handler one at a time and in order.
 */
public final class StreamConnectionImpl implements StreamConnection {

  private static final System.Logger LOG = System.getLogger(StreamConnectionImpl.class.getName());

  /** How often, at most, expired requests are looked for: timeouts fire up to this much late. */
  private static final long MAX_EXPIRY_CHECK_MILLIS = 1000;
  /** How much of a frame goes into an error message: enough to recognize it, not a whole message. */
  private static final int MAX_QUOTED_FRAME_CHARS = 200;

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final WebSocketClient client;
  private final WebSocket socket;
  private final String subject;
  private final Endpoint endpoint;
  // A random number, like the original JS client's: it lets the broker and logs tell publishers apart.
  private final long clientId = ThreadLocalRandom.current().nextLong(1, 1L << 53);
  private final PendingRequests pending;
  private final AtomicReference<SubscriptionImpl> subscription = new AtomicReference<>();
  private final long expiryTimerId;
  private volatile boolean closed;
  private volatile Handler<StreamException> errorHandler;
  private volatile Handler<Void> closeHandler;
  private Future<Void> closeFuture;

  private StreamConnectionImpl(Vertx vertx, boolean ownsVertx, WebSocketClient client, WebSocket socket,
      ClientOptions options, String subject, Endpoint endpoint) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.client = client;
    this.socket = socket;
    this.subject = subject;
    this.endpoint = endpoint;
    long timeoutMillis = options.requestTimeout().toMillis();
    this.pending = new PendingRequests(options.maxPendingRequests(), TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
    this.expiryTimerId = timeoutMillis == 0 ? -1
        : vertx.setPeriodic(Math.max(1, Math.min(MAX_EXPIRY_CHECK_MILLIS, timeoutMillis / 10)),
            id -> pending.expire(System.nanoTime()));
    socket.textMessageHandler(this::handleText);
    socket.binaryMessageHandler(buffer -> reportError(new StreamException(StreamException.BAD_FRAME,
        "unexpected binary message of " + buffer.length() + " bytes")));
    socket.exceptionHandler(e -> reportError(new StreamException(StreamException.TRANSPORT_ERROR,
        "transport failure on " + endpoint.description() + ": " + e.getMessage(), e)));
    socket.closeHandler(v -> handleClosed());
  }

  /** @return a Vert.x instance sized for one client: a single event loop is plenty for one socket */
  public static Vertx createOwnedVertx() {
    return Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
  }

  /**
   * Opens the WebSocket from the caller's context (a new event-loop context outside Vert.x), so the
   * socket's handlers run there.
   *
   * @param vertx the Vert.x instance to run on
   * @param ownsVertx whether closing the connection (or failing to open it) closes {@code vertx}
   * @param options the broker's address, credentials and limits
   * @param subject the stream's subject
   * @return the open connection
   */
  public static Future<StreamConnection> connect(Vertx vertx, boolean ownsVertx, ClientOptions options,
      String subject) {
    Objects.requireNonNull(vertx, "vertx");
    Objects.requireNonNull(options, "options");
    if (subject == null || subject.isEmpty()) {
      return closeOwned(vertx, ownsVertx).transform(ignored ->
          Future.failedFuture(new IllegalArgumentException("subject must not be empty")));
    }
    Endpoint endpoint = Endpoint.of(options, subject);
    WebSocketClient client = vertx.createWebSocketClient(new WebSocketClientOptions()
        .setMaxMessageSize(options.maxMessageSize()));
    Promise<StreamConnection> opened = Promise.promise();
    vertx.getOrCreateContext().runOnContext(v -> client.connect(endpoint.connectOptions()).onComplete(result -> {
      if (result.succeeded()) {
        opened.complete(
            new StreamConnectionImpl(vertx, ownsVertx, client, result.result(), options, subject, endpoint));
      } else {
        StreamException failure = endpoint.connectFailure(result.cause());
        client.close().onComplete(ignored -> closeOwned(vertx, ownsVertx).onComplete(closed -> opened.fail(failure)));
      }
    }));
    return opened.future();
  }

  /**
   * Closes {@code vertx} if owned. Callers chain on the returned future directly: a future derived from one
   * bound to the owned Vert.x's context (compose, transform) would dispatch to a stopped event loop and never complete.
   */
  private static Future<Void> closeOwned(Vertx vertx, boolean ownsVertx) {
    return ownsVertx ? vertx.close() : Future.succeededFuture();
  }

  @Override
  public String subject() {
    return subject;
  }

  @Override
  public Future<Long> publish(Object data) {
    Object payload;
    try {
      payload = Protocol.publishable(data);
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    return send(payload).map(reply -> Protocol.requiredLong(reply, Protocol.SEQUENCE));
  }

  @Override
  public Future<StreamInfo> info() {
    return send(Protocol.command(Protocol.GET_STREAM_INFO)).map(Protocol::streamInfo);
  }

  @Override
  public Future<Subscription> subscribe(SubscribeOptions options, Handler<StreamMessage> handler) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(handler, "handler");
    SubscriptionImpl created = new SubscriptionImpl(this, options.autoAck(), handler);
    // Taken before sending: it is what refuses a concurrent second subscribe, and it is in place for the first push.
    if (!subscription.compareAndSet(null, created)) {
      return Future.failedFuture(new StreamException(StreamException.ALREADY_SUBSCRIBED,
          "this connection is already subscribed to " + subject + "; unsubscribe first or open another connection"));
    }
    JsonObject command = Protocol.command(Protocol.SUBSCRIBE);
    if (options.hasStartSequence()) {
      command.put(Protocol.START_SEQUENCE, options.startSequence());
    }
    return send(command)
        .<Subscription>map(reply -> created)
        .onFailure(e -> {
          created.deactivate();
          subscription.compareAndSet(created, null);
        });
  }

  Future<Void> unsubscribe(SubscriptionImpl target) {
    // Stopping delivery before the broker confirms means no ack races the broker dropping its deliveries.
    if (!subscription.compareAndSet(target, null)) {
      return Future.succeededFuture();
    }
    target.deactivate();
    return send(Protocol.command(Protocol.UNSUBSCRIBE)).mapEmpty();
  }

  @Override
  public Future<Void> deleteMessages(long upToSequence) {
    return send(Protocol.command(Protocol.DELETE_MESSAGES).put(Protocol.SEQUENCE, upToSequence)).mapEmpty();
  }

  @Override
  public Future<JsonObject> getState() {
    return send(Protocol.command(Protocol.GET_STATE)).map(reply -> {
      JsonObject state = reply.getJsonObject(Protocol.STATE);
      return state == null ? new JsonObject() : state;
    });
  }

  @Override
  public Future<Void> putState(JsonObject state) {
    Objects.requireNonNull(state, "state");
    return send(Protocol.command(Protocol.PUT_STATE).put(Protocol.STATE, state)).mapEmpty();
  }

  @Override
  public Future<JsonObject> command(JsonObject command) {
    if (command == null || !(command.getValue(Protocol.COMMAND) instanceof String)) {
      return Future.failedFuture(
          new IllegalArgumentException("a command needs a string \"" + Protocol.COMMAND + "\" field"));
    }
    return send(command);
  }

  @Override
  public StreamConnection errorHandler(Handler<StreamException> handler) {
    this.errorHandler = handler;
    return this;
  }

  @Override
  public StreamConnection closeHandler(Handler<Void> handler) {
    this.closeHandler = handler;
    return this;
  }

  @Override
  public boolean isClosed() {
    return closed;
  }

  @Override
  public synchronized Future<Void> close() {
    if (closeFuture == null) {
      closed = true;
      Promise<Void> released = Promise.promise();
      // An already closed socket fails its close(); that is no reason to keep the rest open.
      socket.close().otherwiseEmpty()
          .compose(v -> client.close())
          .onComplete(ignored -> closeOwned(vertx, ownsVertx).onComplete(released));
      closeFuture = released.future();
    }
    return closeFuture;
  }

  private Future<JsonObject> send(Object data) {
    if (closed) {
      return Future.failedFuture(closedException());
    }
    Promise<JsonObject> promise = Promise.promise();
    long requestId;
    try {
      requestId = pending.register(promise);
    } catch (StreamException e) {
      return Future.failedFuture(e);
    }
    // The close may have failed all pending requests just before this one registered.
    if (closed) {
      pending.fail(requestId, closedException());
      return promise.future();
    }
    socket.writeTextMessage(Protocol.request(data, requestId, clientId).encode())
        .onFailure(e -> pending.fail(requestId, new StreamException(StreamException.CONNECTION_CLOSED,
            "could not send the request to " + endpoint.description() + ": " + e.getMessage(), e)));
    return promise.future();
  }

  void sendAck(JsonObject ack, long sequence) {
    if (closed) {
      return;
    }
    socket.writeTextMessage(ack.encode()).onFailure(e -> LOG.log(Level.DEBUG,
        () -> "could not ack " + subject + " sequence " + sequence + "; the broker will redeliver it", e));
  }

  private void handleText(String text) {
    JsonObject frame;
    try {
      frame = new JsonObject(text);
    } catch (DecodeException | ClassCastException e) {
      reportError(new StreamException(StreamException.BAD_FRAME, "not a JSON object: " + quote(text), e));
      return;
    }
    try {
      if (frame.containsKey(Protocol.PUSH_MARKER)) {
        handlePush(frame);
      } else if (frame.containsKey(Protocol.CLIENT_MESSAGE_ID)) {
        handleReply(frame);
      } else if (frame.containsKey(Protocol.ERROR)) {
        reportError(Protocol.error(frame.getValue(Protocol.ERROR)));
      } else {
        reportError(new StreamException(StreamException.BAD_FRAME, "neither push, reply nor error: " + quote(text)));
      }
    } catch (ClassCastException e) {
      reportError(new StreamException(StreamException.BAD_FRAME, "unexpected field type in " + quote(text), e));
    }
  }

  private void handleReply(JsonObject frame) {
    long requestId = frame.getNumber(Protocol.CLIENT_MESSAGE_ID).longValue();
    Object error = frame.getValue(Protocol.ERROR);
    boolean matched = error == null
        ? pending.complete(requestId, frame)
        : pending.fail(requestId, Protocol.error(error));
    if (!matched) {
      LOG.log(Level.DEBUG, () -> "ignoring the reply to request " + requestId + " on " + subject
          + ": it already timed out or was answered");
    }
  }

  private void handlePush(JsonObject frame) {
    if (!(frame.getValue(Protocol.SERVER_MESSAGE_ID) instanceof Number)) {
      reportError(new StreamException(StreamException.BAD_FRAME, "push without \"sMsgId\": " + quote(frame.encode())));
      return;
    }
    long sequence = Protocol.requiredLong(frame, Protocol.SEQUENCE);
    SubscriptionImpl current = subscription.get();
    if (current == null) {
      LOG.log(Level.DEBUG, () -> "dropping " + subject + " sequence " + sequence + ": no active subscription");
      return;
    }
    current.deliver(new StreamMessageImpl(this, frame, sequence));
  }

  private void handleClosed() {
    closed = true;
    if (expiryTimerId != -1) {
      vertx.cancelTimer(expiryTimerId);
    }
    pending.failAll(closedException());
    SubscriptionImpl current = subscription.getAndSet(null);
    if (current != null) {
      current.deactivate();
    }
    Handler<Void> handler = closeHandler;
    if (handler != null) {
      handler.handle(null);
    }
  }

  private StreamException closedException() {
    Short status = socket.closeStatusCode();
    String reason = socket.closeReason();
    return new StreamException(StreamException.CONNECTION_CLOSED, "connection to " + endpoint.description()
        + " closed" + (status == null ? "" : " with status " + status)
        + (reason == null || reason.isEmpty() ? "" : ": " + reason));
  }

  private void reportError(StreamException error) {
    Handler<StreamException> handler = errorHandler;
    if (handler == null) {
      LOG.log(Level.WARNING, "error on " + endpoint.description() + ": " + error, error.getCause());
      return;
    }
    try {
      handler.handle(error);
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "error handler failed on " + error, e);
    }
  }

  private static String quote(String text) {
    return text.length() <= MAX_QUOTED_FRAME_CHARS ? text : text.substring(0, MAX_QUOTED_FRAME_CHARS) + "...";
  }
}
