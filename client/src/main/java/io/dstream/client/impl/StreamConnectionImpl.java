package io.dstream.client.impl;

import io.dstream.client.AuthenticationException;
import io.dstream.client.ClientOptions;
import io.dstream.client.StateWatch;
import io.dstream.client.StreamConnection;
import io.dstream.client.StreamException;
import io.dstream.client.StreamInfo;
import io.dstream.client.StreamMessage;
import io.dstream.client.SubscribeOptions;
import io.dstream.client.Subscription;
import io.dstream.client.VersionedState;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.lang.System.Logger.Level;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One subject's protocol v1 connection over a WebSocket that is reopened when lost.
 *
 * <p>Threading: requests, acks and {@link #close()} may come from any thread. Requests register in
 * the thread-safe {@link PendingRequests}; every request write, every socket event (replies, pushes,
 * errors, the close), the reconnect attempts and the request-expiry timer run on the context the
 * connection was opened from, so pushes reach the subscription handler one at a time and in order,
 * and a request is never written twice to one socket. Acks are written directly (socket writes are
 * thread-safe); one lost with a socket is repaired by {@link SubscriptionImpl}.
 *
 * <p>Reconnect rule: the socket is swapped on the context; the subscription is requested again
 * first, then every waiting repeatable request in {@code cMsgId} order, so publishes keep their order.
 * A request keeps its {@code cMsgId} and this connection keeps its {@code clientId} for life, which is
 * what lets the broker's dedup window recognise a repeated publish.
 */
public final class StreamConnectionImpl implements StreamConnection {

  private static final System.Logger LOG = System.getLogger(StreamConnectionImpl.class.getName());

  /** How often, at most, expired requests are looked for: timeouts fire up to this much late. */
  private static final long MAX_EXPIRY_CHECK_MILLIS = 1000;
  /** How much of a frame goes into an error message: enough to recognize it, not a whole message. */
  private static final int MAX_QUOTED_FRAME_CHARS = 200;
  /** Caps the doubling exponent; the delay is capped by the options long before. */
  private static final int MAX_BACKOFF_EXPONENT = 20;

  private final Vertx vertx;
  private final boolean ownsVertx;
  private final Context context;
  private final WebSocketClient client;
  private final ClientOptions options;
  private final String subject;
  private final Endpoint endpoint;
  // A random number, like the original JS client's: the broker's dedup window keys on it.
  private final long clientId = ThreadLocalRandom.current().nextLong(1, 1L << 53);
  private final PendingRequests pending;
  private final AtomicReference<SubscriptionImpl> subscription = new AtomicReference<>();
  private final StateWatches watches;
  private final AtomicBoolean closeHandled = new AtomicBoolean();
  private final long expiryTimerId;
  private volatile WebSocket socket;
  /** Counts the sockets this connection has had, so an ack can tell whether its delivery is still known. */
  private volatile long generation;
  private volatile boolean closed;
  private volatile Handler<StreamException> errorHandler;
  private volatile Handler<Void> closeHandler;
  private volatile Handler<Void> reconnectHandler;
  private int reconnectAttempts;
  private long reconnectTimerId = -1;
  private Future<Void> closeFuture;

  private StreamConnectionImpl(Vertx vertx, boolean ownsVertx, Context context, WebSocketClient client,
      WebSocket socket, ClientOptions options, String subject, Endpoint endpoint) {
    this.vertx = vertx;
    this.ownsVertx = ownsVertx;
    this.context = context;
    this.client = client;
    this.options = options;
    this.subject = subject;
    this.endpoint = endpoint;
    this.watches = new StateWatches(subject, command -> sendCommand(command, true));
    long timeoutMillis = options.requestTimeout().toMillis();
    this.pending = new PendingRequests(options.maxPendingRequests(), TimeUnit.MILLISECONDS.toNanos(timeoutMillis));
    this.expiryTimerId = timeoutMillis == 0 ? -1
        : vertx.setPeriodic(Math.max(1, Math.min(MAX_EXPIRY_CHECK_MILLIS, timeoutMillis / 10)),
            id -> pending.expire(System.nanoTime()));
    install(socket);
  }

  /** @return a Vert.x instance sized for one client: a single event loop is plenty for one socket */
  public static Vertx createOwnedVertx() {
    return Vertx.vertx(new VertxOptions().setEventLoopPoolSize(1));
  }

  /**
   * Opens the WebSocket from the caller's context (a new event-loop context outside Vert.x), so the
   * socket's handlers run there. A failed first connect is not retried: it fails the future.
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
    WebSocketClientOptions clientOptions = new WebSocketClientOptions().setMaxMessageSize(options.maxMessageSize());
    if (options.trustedCertificates() != null) {
      clientOptions.setTrustOptions(new PemTrustOptions().addCertPath(options.trustedCertificates().toString()));
    }
    WebSocketClient client = vertx.createWebSocketClient(clientOptions);
    Promise<StreamConnection> opened = Promise.promise();
    Context context = vertx.getOrCreateContext();
    context.runOnContext(v -> client.connect(endpoint.connectOptions()).onComplete(result -> {
      if (result.succeeded()) {
        opened.complete(new StreamConnectionImpl(vertx, ownsVertx, context, client, result.result(), options,
            subject, endpoint));
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

  private void install(WebSocket opened) {
    generation++;
    socket = opened;
    opened.textMessageHandler(this::handleText);
    opened.binaryMessageHandler(buffer -> reportError(new StreamException(StreamException.BAD_FRAME,
        "unexpected binary message of " + buffer.length() + " bytes")));
    opened.exceptionHandler(e -> reportError(new StreamException(StreamException.TRANSPORT_ERROR,
        "transport failure on " + endpoint.description() + ": " + e.getMessage(), e)));
    opened.closeHandler(v -> handleSocketClosed(opened));
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
    return send(id -> Protocol.publishRequest(payload, id, clientId).encode(), true)
        .map(reply -> Protocol.requiredLong(reply, Protocol.SEQUENCE));
  }

  @Override
  public Future<List<Long>> publishAll(List<?> data) {
    Objects.requireNonNull(data, "data");
    List<Object> payloads = new ArrayList<>(data.size());
    try {
      for (Object value : data) {
        payloads.add(Protocol.publishable(value));
      }
    } catch (IllegalArgumentException e) {
      return Future.failedFuture(e);
    }
    int window = Math.min(options.publishWindow(), options.maxPendingRequests());
    return new PublishPipeline(payloads, window, this::publish, context).start();
  }

  @Override
  public Future<StreamInfo> info() {
    return sendCommand(Protocol.command(Protocol.GET_STREAM_INFO), true).map(Protocol::streamInfo);
  }

  @Override
  public Future<Subscription> subscribe(SubscribeOptions subscribeOptions, Handler<StreamMessage> handler) {
    Objects.requireNonNull(subscribeOptions, "options");
    Objects.requireNonNull(handler, "handler");
    Future<Long> startSequence = switch (subscribeOptions.start()) {
      case NEW -> info().map(info -> info.lastSequence() + 1);
      case SEQUENCE -> Future.succeededFuture(subscribeOptions.startSequence());
      default -> Future.succeededFuture(0L);
    };
    Long startTime = subscribeOptions.startTime() == null ? null : subscribeOptions.startTime().toEpochMilli();
    return startSequence.compose(start -> {
      SubscriptionImpl created = new SubscriptionImpl(this, subscribeOptions, start, startTime, handler);
      // Taken before sending: it refuses a concurrent second subscribe, and it is in place for the first push.
      if (!subscription.compareAndSet(null, created)) {
        return Future.failedFuture(new StreamException(StreamException.ALREADY_SUBSCRIBED,
            "this connection is already subscribed to " + subject + "; unsubscribe first or open another connection"));
      }
      return sendCommand(created.subscribeCommand(), true)
          .<Subscription>map(reply -> {
            created.confirm();
            return created;
          })
          .onFailure(e -> {
            created.deactivate();
            subscription.compareAndSet(created, null);
          });
    });
  }

  Future<Void> unsubscribe(SubscriptionImpl target) {
    // Stopping delivery before the broker confirms means no ack races the broker dropping its deliveries.
    if (!subscription.compareAndSet(target, null)) {
      return Future.succeededFuture();
    }
    target.deactivate();
    return sendCommand(Protocol.command(Protocol.UNSUBSCRIBE), true).mapEmpty();
  }

  @Override
  public Future<Void> deleteMessages(long upToSequence) {
    return sendCommand(Protocol.command(Protocol.DELETE_MESSAGES).put(Protocol.SEQUENCE, upToSequence), true)
        .mapEmpty();
  }

  @Override
  public Future<JsonObject> getState() {
    return sendCommand(Protocol.command(Protocol.GET_STATE), true).map(reply -> {
      JsonObject state = reply.getJsonObject(Protocol.STATE);
      return state == null ? new JsonObject() : state;
    });
  }

  @Override
  public Future<VersionedState> getVersionedState() {
    return sendCommand(Protocol.command(Protocol.GET_STATE), true).map(Protocol::versionedState);
  }

  @Override
  public Future<Long> putState(JsonObject state) {
    Objects.requireNonNull(state, "state");
    return sendCommand(Protocol.command(Protocol.PUT_STATE).put(Protocol.STATE, state.copy()), true)
        .map(reply -> Protocol.requiredLong(reply, Protocol.REVISION));
  }

  @Override
  public Future<Long> putState(JsonObject state, long expectedRevision) {
    Objects.requireNonNull(state, "state");
    if (expectedRevision < 0) {
      return Future.failedFuture(new IllegalArgumentException("a revision is >= 0, got " + expectedRevision));
    }
    return sendCommand(Protocol.command(Protocol.PUT_STATE).put(Protocol.STATE, state.copy())
        .put(Protocol.EXPECTED_REVISION, expectedRevision), true)
        .map(reply -> Protocol.requiredLong(reply, Protocol.REVISION));
  }

  @Override
  public Future<StateWatch> watchState(Handler<VersionedState> handler) {
    Objects.requireNonNull(handler, "handler");
    return watches.watch(handler);
  }

  @Override
  public Future<JsonObject> command(JsonObject command) {
    if (command == null || !(command.getValue(Protocol.COMMAND) instanceof String)) {
      return Future.failedFuture(
          new IllegalArgumentException("a command needs a string \"" + Protocol.COMMAND + "\" field"));
    }
    return sendCommand(command.copy(), false);
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
  public StreamConnection reconnectHandler(Handler<Void> handler) {
    this.reconnectHandler = handler;
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
      context.runOnContext(v -> {
        WebSocket current = socket;
        if (current == null) {
          // Between sockets: nothing will report the close, so it is finished here.
          finish(closedException(null));
        }
        // An already closed socket fails its close(); that is no reason to keep the rest open.
        Future<Void> socketClosed = current == null ? Future.succeededFuture() : current.close().otherwiseEmpty();
        socketClosed
            .compose(ignored -> client.close())
            .onComplete(ignored -> closeOwned(vertx, ownsVertx).onComplete(released));
      });
      closeFuture = released.future();
    }
    return closeFuture;
  }

  private Future<JsonObject> sendCommand(JsonObject command, boolean repeatable) {
    return send(id -> Protocol.request(command, id, clientId).encode(), repeatable);
  }

  private Future<JsonObject> send(PendingRequests.FrameRenderer renderer, boolean repeatable) {
    if (closed) {
      return Future.failedFuture(closedException(null));
    }
    Promise<JsonObject> promise = Promise.promise();
    PendingRequests.Pending request;
    try {
      request = pending.register(promise, renderer, repeatable);
    } catch (StreamException e) {
      return Future.failedFuture(e);
    }
    // The close may have failed all pending requests just before this one registered.
    if (closed) {
      pending.fail(request.id, closedException(null));
      return promise.future();
    }
    if (Vertx.currentContext() == context) {
      write(request);
    } else {
      context.runOnContext(v -> write(request));
    }
    return promise.future();
  }

  /** Writes a waiting request to the current socket unless it is already there; on the context only. */
  private void write(PendingRequests.Pending request) {
    WebSocket current = socket;
    if (current == null || request.sentOn == current || pending.get(request.id) != request) {
      return;
    }
    request.sentOn = current;
    current.writeTextMessage(request.frame).onFailure(e -> {
      if (!request.repeatable || options.maxReconnectAttempts() == 0) {
        pending.fail(request.id, new StreamException(StreamException.CONNECTION_CLOSED,
            "could not send the request to " + endpoint.description() + ": " + e.getMessage(), e));
      }
    });
  }

  long generation() {
    return generation;
  }

  void sendAck(JsonObject ack, long sequence) {
    WebSocket current = socket;
    if (closed || current == null) {
      return;
    }
    current.writeTextMessage(ack.encode()).onFailure(e -> LOG.log(Level.DEBUG,
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
      } else if (frame.containsKey(Protocol.STATE_PUSH_MARKER)) {
        watches.push(frame);
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
    current.deliver(frame, sequence, generation);
  }

  // ---- losing and reopening the socket (on the context) ----------------------------------------

  private void handleSocketClosed(WebSocket lost) {
    if (lost != socket) {
      return;
    }
    socket = null;
    if (closed || options.maxReconnectAttempts() == 0) {
      closed = true;
      finish(closedException(lost));
      return;
    }
    pending.failUnrepeatable(new StreamException(StreamException.CONNECTION_CLOSED, "connection to "
        + endpoint.description() + " lost before the reply; the command may or may not have been applied"));
    reportError(new StreamException(StreamException.CONNECTION_LOST, "connection to " + endpoint.description()
        + " lost" + closeDetail(lost) + "; reconnecting"));
    reconnectAttempts = 0;
    scheduleReconnect();
  }

  private void scheduleReconnect() {
    long initial = options.reconnectInitialDelay().toMillis();
    long max = options.reconnectMaxDelay().toMillis();
    long backoff = Math.min(max, initial << Math.min(reconnectAttempts, MAX_BACKOFF_EXPONENT));
    // Equal jitter: at least half the backoff, so clients that lost the same broker spread out.
    long delay = Math.max(1, backoff / 2 + ThreadLocalRandom.current().nextLong(backoff / 2 + 1));
    reconnectTimerId = vertx.setTimer(delay, id -> context.runOnContext(v -> attemptReconnect()));
  }

  private void attemptReconnect() {
    reconnectTimerId = -1;
    if (closed) {
      return;
    }
    client.connect(endpoint.connectOptions()).onComplete(result -> {
      if (closed) {
        if (result.succeeded()) {
          result.result().close();
        }
        return;
      }
      if (result.succeeded()) {
        reopened(result.result());
        return;
      }
      StreamException failure = endpoint.connectFailure(result.cause());
      reconnectAttempts++;
      if (failure instanceof AuthenticationException || !isTransient(failure)) {
        giveUp(failure);
      } else if (reconnectAttempts >= options.maxReconnectAttempts()) {
        giveUp(new StreamException(StreamException.CONNECTION_CLOSED, "gave up reconnecting to "
            + endpoint.description() + " after " + reconnectAttempts + " attempts: " + failure.getMessage(), failure));
      } else {
        LOG.log(Level.DEBUG, () -> "reconnect attempt " + reconnectAttempts + " failed: " + failure.getMessage());
        scheduleReconnect();
      }
    });
  }

  /**
   * Unreachable, overloaded (503) or failing (5xx) brokers may recover; a refused upgrade of another
   * kind (a bad subject, a forbidden subject) will not change by trying again.
   */
  private static boolean isTransient(StreamException failure) {
    return failure.code().equals(StreamException.CONNECT_FAILED) || failure.code().startsWith("http_5")
        || failure.code().equals(StreamException.OVERLOADED) || failure.code().equals("internal");
  }

  private void reopened(WebSocket opened) {
    install(opened);
    reconnectAttempts = 0;
    SubscriptionImpl current = subscription.get();
    if (current != null && current.confirmed()) {
      reissue(current.subscribeCommand(), reply -> { });
    }
    watches.reopened(this::reissue);
    for (PendingRequests.Pending request : pending.inOrder()) {
      write(request);
    }
    Handler<Void> handler = reconnectHandler;
    if (handler != null) {
      handler.handle(null);
    }
  }

  /** Sends {@code command} again on a reopened socket, ahead of the waiting requests; a failure is reported. */
  private void reissue(JsonObject command, Handler<JsonObject> onReply) {
    Promise<JsonObject> reissued = Promise.promise();
    reissued.future().onComplete(ar -> {
      if (ar.succeeded()) {
        onReply.handle(ar.result());
      } else if (ar.cause() instanceof StreamException failure
          && !failure.code().equals(StreamException.CONNECTION_CLOSED)) {
        reportError(failure);
      }
    });
    try {
      write(pending.register(reissued, id -> Protocol.request(command, id, clientId).encode(), false));
    } catch (StreamException e) {
      reissued.fail(e);
    }
  }

  private void giveUp(StreamException failure) {
    closed = true;
    reportError(failure);
    finish(failure);
  }

  /** The connection is over: fail what waits, end the subscription and the watch, tell the close handler once. */
  private void finish(StreamException cause) {
    if (expiryTimerId != -1) {
      vertx.cancelTimer(expiryTimerId);
    }
    if (reconnectTimerId != -1) {
      vertx.cancelTimer(reconnectTimerId);
      reconnectTimerId = -1;
    }
    pending.failAll(cause);
    SubscriptionImpl current = subscription.getAndSet(null);
    if (current != null) {
      current.deactivate();
    }
    watches.closed();
    Handler<Void> handler = closeHandler;
    if (handler != null && closeHandled.compareAndSet(false, true)) {
      handler.handle(null);
    }
  }

  private StreamException closedException(WebSocket last) {
    return new StreamException(StreamException.CONNECTION_CLOSED, "connection to " + endpoint.description()
        + " closed" + closeDetail(last));
  }

  private static String closeDetail(WebSocket last) {
    if (last == null) {
      return "";
    }
    Short status = last.closeStatusCode();
    String reason = last.closeReason();
    return (status == null ? "" : " with status " + status)
        + (reason == null || reason.isEmpty() ? "" : ": " + reason);
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
