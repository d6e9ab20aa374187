package io.dstream.broker.nats;

import io.dstream.broker.auth.AuthenticationException;
import io.dstream.broker.auth.Permissions;
import io.dstream.broker.stream.Subjects;
import io.dstream.pattern.TokenPattern;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One NATS client connection: the protocol's state machine (INFO, CONNECT with auth, then
 * operations), its subscriptions, and everything written to it.
 *
 * <p>Threading: operations are read and served on the connection's context; deliveries and acks
 * are written from the stream actors' contexts through {@link #send}, which is thread-safe.
 *
 * <p>Memory: unsent bytes are counted per connection and in the broker-wide budget; a connection
 * whose unsent bytes pass {@code maxPendingBytes} is closed as a slow consumer (as nats-server
 * does), so a client that never reads costs at most that. Publishes awaiting their commit are bounded
 * by the {@link DurablePublisher}, which stops reading the socket meanwhile.
 */
final class NatsConnection implements ClientParser.Operations {

  private static final Logger LOG = LoggerFactory.getLogger(NatsConnection.class);
  private static final byte[] CRLF = {'\r', '\n'};
  private static final Buffer PONG = Buffer.buffer("PONG\r\n");
  private static final Buffer PING = Buffer.buffer("PING\r\n");
  private static final Buffer OK = Buffer.buffer("+OK\r\n");
  /** How long a closing connection's last {@code -ERR} may take to leave before the connection is cut. */
  static final long CLOSE_FLUSH_MS = 2_000;
  /** Unanswered server pings before the connection is taken for dead. */
  private static final int MAX_OUTSTANDING_PINGS = 2;

  final NatsServer server;
  private final Transport transport;
  final Context context;
  private final long clientId;
  private final String ip;
  private final ClientParser parser;
  private final Map<String, Subscription> subscriptions = new HashMap<>();
  private final DurablePublisher publisher;
  private final AtomicLong pendingBytes = new AtomicLong();
  private final Outbox outbox;
  /** Releases the connection's place under {@code DSTREAM_MAX_CONNECTIONS}. */
  private final Runnable onClose;
  private final AckBatch acks = new AckBatch();
  /**
   * The last subject published to that passed every check and is durable. The parser hands out the
   * same String while a publisher repeats its subject, so an identity check skips the subject's
   * validation, scope, reserved and ephemeral matching (which cannot change once connected).
   */
  private String checkedDurable;
  /** The JetStream API requests of this connection, answered one after the other. */
  Future<Void> apiQueue = Future.succeededFuture();
  private Permissions permissions;
  private boolean connected;
  private boolean verbose;
  /** Whether the client reads header blocks ({@code HMSG}); without, headers are left out of what it gets. */
  private volatile boolean headers;
  private boolean noResponders;
  private volatile boolean closed;
  /** The transport reported its close. */
  private volatile boolean gone;
  private int outstandingPings;
  private long authTimer = -1;
  private long pingTimer = -1;
  private long expiryTimer = -1;

  NatsConnection(NatsServer server, Transport transport, Context context, long clientId, Runnable onClose) {
    this.server = server;
    this.onClose = onClose;
    this.transport = transport;
    this.context = context;
    this.clientId = clientId;
    this.ip = transport.remoteAddress();
    this.parser = new ClientParser(server.settings.maxControlLine(), server.settings.maxPayload());
    this.publisher = new DurablePublisher(this);
    this.outbox = new Outbox(context, transport, bytes -> {
      pendingBytes.addAndGet(-bytes);
      server.budget.release(bytes);
    });
  }

  void start() {
    server.metrics.natsConnections().incrementAndGet();
    transport.handlers(this::onData, v -> onClose());
    Buffer info = Buffer.buffer("INFO " + info().encode() + "\r\n");
    if (transport.tlsRequired()) {
      // The INFO goes out in the clear, then the client starts TLS (NATS's order on its TCP port).
      // The CONNECT deadline starts once the handshake is done: a first handshake of a cold JVM on a
      // busy machine took longer than the whole deadline. The handshake has its own (Vert.x's, 10 s).
      transport.sendInfo(info).onComplete(ar -> {
        if (ar.failed()) {
          LOG.debug("TLS with NATS client {} from {} failed: {}", clientId, ip, ar.cause().toString());
          transport.close();
        } else {
          awaitConnect();
        }
      });
    } else {
      send(info);
      awaitConnect();
    }
    long pingMs = server.config.connectionLimits().pingInterval().toMillis();
    pingTimer = context.owner().setPeriodic(pingMs, id -> {
      if (outstandingPings >= MAX_OUTSTANDING_PINGS) {
        fail("Stale Connection");
      } else {
        outstandingPings++;
        send(PING.copy());
      }
    });
  }

  /** A connection that has not sent {@code CONNECT} within the auth timeout is closed. */
  private void awaitConnect() {
    authTimer = context.owner().setTimer(server.settings.authTimeout().toMillis(), id -> {
      authTimer = -1;
      if (!connected) {
        fail("Authentication Timeout");
      }
    });
  }

  private JsonObject info() {
    JsonObject info = new JsonObject()
        .put("server_id", server.serverId).put("server_name", "durable-stream")
        .put("version", NatsServer.PROTOCOL_VERSION).put("dstream_version", server.brokerVersion)
        .put("proto", 1).put("go", "java").put("host", server.config.host()).put("port", server.port())
        .put("headers", true).put("max_payload", server.settings.maxPayload()).put("jetstream", true)
        .put("client_id", clientId).put("client_ip", ip);
    if (!server.authenticator.allowsAnonymous()) {
      info.put("auth_required", true);
    }
    if (transport.tlsRequired()) {
      info.put("tls_required", true);
    }
    return info;
  }

  // ---- reading --------------------------------------------------------------------------------

  private void onData(Buffer chunk) {
    if (closed) {
      return;
    }
    try {
      parser.feed(chunk, this);
    } catch (ProtocolException e) {
      fail(e.getMessage());
    } finally {
      acks.flush();
      publisher.flush();
    }
  }

  @Override
  public boolean connect(String json) throws ProtocolException {
    JsonObject options;
    try {
      options = new JsonObject(json);
    } catch (DecodeException | ClassCastException e) {
      throw new ProtocolException("Invalid CONNECT: " + e.getMessage());
    }
    if (connected) {
      // Credentials are decided once per connection; a repeated CONNECT changes nothing.
      return true;
    }
    verbose = options.getBoolean("verbose", false);
    headers = options.getBoolean("headers", false);
    noResponders = options.getBoolean("no_responders", false);
    String token = options.getString("auth_token");
    if (token == null) {
      // A client configured with user and password: the password is the credential.
      token = options.getString("pass");
    }
    var authenticated = server.authenticator.authenticate(token);
    if (authenticated.isComplete()) {
      return authenticated(authenticated.result(), authenticated.cause());
    }
    transport.pause();
    authenticated.onComplete(ar -> context.runOnContext(v -> {
      if (authenticated(ar.result(), ar.cause())) {
        transport.resume();
        try {
          parser.resume(this);
        } catch (ProtocolException e) {
          fail(e.getMessage());
        } finally {
          acks.flush();
          publisher.flush();
        }
      }
    }));
    return false;
  }

  private boolean authenticated(Permissions granted, Throwable failure) {
    if (failure != null || granted == null) {
      if (!(failure instanceof AuthenticationException)) {
        LOG.warn("authenticating a NATS client failed", failure);
      }
            fail("Authorization Violation");
      return false;
    }
    permissions = granted;
    connected = true;
    if (authTimer >= 0) {
      context.owner().cancelTimer(authTimer);
      authTimer = -1;
    }
    if (permissions.expiresAtMs() != Long.MAX_VALUE) {
      long remainingMs = Math.max(1, permissions.expiresAtMs() - System.currentTimeMillis());
      expiryTimer = context.owner().setTimer(remainingMs, id -> fail("User Authentication Expired"));
    }
    ok();
    return true;
  }

  /** Operations before {@code CONNECT}: served as anonymous where that is allowed, else refused. */
  private boolean admitted() {
    if (connected) {
      return true;
    }
    if (server.authenticator.allowsAnonymous()) {
      return authenticated(server.authenticator.authenticate((String) null).result(), null);
    }
    fail("Authorization Violation");
    return false;
  }

  @Override
  public void publish(String subject, String reply, byte[] headerBlock, byte[] payload) {
    if (!admitted()) {
      return;
    }
    server.metrics.natsPublishes.increment();
    if (subject == checkedDurable && (reply == null || !invalidReply(reply))) {
      ok();
      publisher.publish(subject, reply, headerBlock, payload);
      return;
    }
    if (subject.startsWith(JetStreamConsumers.ACK_PREFIX)) {
      // First: a consumer's client sends one per message, to a subject the broker made itself.
      ok();
      server.jetStream.consumers().ack(acks, subject, reply, payload);
      return;
    }
    if (subject.startsWith(JetStreamApi.PREFIX) && (reply == null || !invalidReply(reply))) {
      // Before the subject check: a consumer's filter, wildcards included, may end the API subject.
      server.jetStream.handle(this, subject, reply, payload);
      return;
    }
    if (Subjects.violation(subject) != null || reply != null && invalidReply(reply)) {
      error("Invalid Publish Subject");
      return;
    }
    if (subject.startsWith(StateApi.PREFIX)) {
      server.state.handle(this, subject, reply, headerBlock, payload);
    } else if (!permissions.mayPublish(subject) || reserved(subject)) {
      error("Permissions Violation for Publish to \"" + subject + "\"");
    } else if (server.ephemeral(subject)) {
      ok();
      if (!server.publishEphemeral(subject, reply, headerBlock, payload) && reply != null && noResponders && headers) {
        noResponders(reply);
      }
    } else {
      ok();
      checkedDurable = subject;
      publisher.publish(subject, reply, headerBlock, payload);
    }
  }

  private static boolean invalidReply(String reply) {
    return Subjects.violation(reply) != null;
  }

  /**
   * Subjects of the broker's own APIs, which clients may call but not store into, and the Durable
   * Streams namespace, whose streams that protocol writes (protocol v1 refuses it too).
   */
  static boolean reserved(String subject) {
    return subject.startsWith("$JS.") || subject.startsWith("$SYS.") || subject.startsWith("$DS.")
        || subject.startsWith("ds.");
  }

  /** The status message of a request nobody listens to, sent to the requester's own reply subscription. */
  private void noResponders(String reply) {
    byte[] status = "NATS/1.0 503\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    for (Subscription subscription : subscriptions.values()) {
      if (TokenPattern.subjects(subscription.subject).matches(reply)) {
        Buffer out = Buffer.buffer();
        encode(out, subscription, reply, null, status, new byte[0]);
        send(out);
        return;
      }
    }
  }

  @Override
  public void subscribe(String subject, String queue, String sid) {
    if (!admitted()) {
      return;
    }
    try {
      TokenPattern.subjects(subject);
    } catch (IllegalArgumentException e) {
      error("Invalid Subject");
      return;
    }
    // A state watch reads the state of the subjects it names: the same right as reading their messages.
    String watched = StateApi.watched(subject);
    if (!Scopes.covers(permissions.subscribe(), watched != null ? watched : subject) && !subject.startsWith("_INBOX.")) {
      error("Permissions Violation for Subscription to \"" + subject + "\"");
      return;
    }
    if (subscriptions.containsKey(sid)) {
      // nats-server ignores a repeated sid; so do we, and the first subscription stays.
      ok();
      return;
    }
    if (subscriptions.size() >= server.settings.maxSubscriptions()) {
      error("Maximum Subscriptions Exceeded");
      return;
    }
    Subscription subscription = new Subscription(this, sid, subject, queue);
    subscriptions.put(sid, subscription);
    server.index.add(subscription);
    ok();
    server.state.watchStarted(subscription);
  }

  @Override
  public void unsubscribe(String sid, long max) {
    if (!admitted()) {
      return;
    }
    Subscription subscription = subscriptions.get(sid);
    if (subscription != null) {
      if (max > 0) {
        subscription.limit(max);
      }
      if (max <= 0 || subscription.exhausted()) {
        subscriptions.remove(sid);
        server.index.remove(subscription);
      }
    }
    ok();
  }

  /** A subscription used up its {@code UNSUB} bound (on a delivering context). */
  void expired(Subscription subscription) {
    server.index.remove(subscription);
    context.runOnContext(v -> subscriptions.remove(subscription.sid, subscription));
  }

  @Override
  public void ping() {
    publisher.ping();
  }

  /** Answers a client's {@code PING}, once {@link DurablePublisher#ping} says its publishes are done. */
  void answerPing() {
    send(PONG.copy());
  }

  @Override
  public void pong() {
    outstandingPings = 0;
  }

  private void ok() {
    if (verbose) {
      send(OK.copy());
    }
  }

  /** {@code -ERR} for a refused operation; the connection stays open (as nats-server's permission errors). */
  void error(String message) {
    server.metrics.natsRefused.increment();
    send(Buffer.buffer("-ERR '" + message + "'\r\n"));
  }

  /**
   * {@code -ERR} for a violation, then the connection closes once the error has left, or after
   * {@link #CLOSE_FLUSH_MS} if it cannot leave (a client that reads nothing: what it holds goes
   * with the connection).
   */
  void fail(String message) {
    if (closed) {
      return;
    }
    closed = true;
    server.metrics.natsRefused.increment();
    LOG.debug("closing NATS connection {} from {}: {}", clientId, ip, message);
    outbox.drain(); // what was sent before the error leaves before it
    transport.write(Buffer.buffer("-ERR '" + message + "'\r\n")).onComplete(ar -> transport.close());
    context.owner().setTimer(CLOSE_FLUSH_MS, id -> {
      if (!gone) {
        transport.abort();
      }
    });
  }

  private void onClose() {
    closed = true;
    gone = true;
    server.metrics.natsConnections().decrementAndGet();
    if (authTimer >= 0) {
      context.owner().cancelTimer(authTimer);
    }
    context.owner().cancelTimer(pingTimer);
    if (expiryTimer >= 0) {
      context.owner().cancelTimer(expiryTimer);
    }
    subscriptions.values().forEach(server.index::remove);
    subscriptions.clear();
    publisher.close();
    server.jetStream.consumers().connectionClosed(this);
    onClose.run();
  }

  Permissions permissions() {
    return permissions;
  }

  String ip() {
    return ip;
  }

  Transport transport() {
    return transport;
  }

  // ---- writing --------------------------------------------------------------------------------

  /**
   * Appends {@code MSG} (or {@code HMSG} when there are headers and the client reads them) for
   * {@code subscription} to {@code out}. Any thread.
   */
  void encode(Buffer out, Subscription subscription, String subject, String reply, byte[] headerBlock,
              byte[] payload) {
    boolean withHeaders = headerBlock != null && headers;
    out.appendString(withHeaders ? "HMSG " : "MSG ").appendString(subject).appendByte((byte) ' ')
        .appendBytes(subscription.sidField);
    if (reply != null) {
      out.appendString(reply).appendByte((byte) ' ');
    }
    if (withHeaders) {
      appendDecimal(out, headerBlock.length);
      out.appendByte((byte) ' ');
      appendDecimal(out, headerBlock.length + payload.length);
      out.appendBytes(CRLF).appendBytes(headerBlock);
    } else {
      appendDecimal(out, payload.length);
      out.appendBytes(CRLF);
    }
    out.appendBytes(payload).appendBytes(CRLF);
  }

  /** Appends {@code value} (>= 0) in ASCII digits without making a String (that was a fifth of a fan-out). */
  private static void appendDecimal(Buffer out, int value) {
    byte[] digits = new byte[10];
    int at = digits.length;
    int rest = value;
    do {
      digits[--at] = (byte) ('0' + rest % 10);
      rest /= 10;
    } while (rest > 0);
    out.appendBytes(digits, at, digits.length - at);
  }

  /**
   * Writes {@code data}, which the connection now owns; any thread. Counted until it has left: past
   * {@code maxPendingBytes} the client is a slow consumer and the connection closes. Goes out with
   * whatever else reaches the connection before its context runs ({@link Outbox}).
   */
  void send(Buffer data) {
    if (closed) {
      return;
    }
    int bytes = data.length();
    long pending = pendingBytes.addAndGet(bytes);
    // Past the limit with something already waiting: a write to a connection that has taken
    // everything so far always goes, so one large batch never closes a client that keeps up.
    if (pending > server.settings.maxPendingBytes() && pending > bytes) {
      pendingBytes.addAndGet(-bytes);
      server.metrics.natsSlowConsumers.increment();
      context.runOnContext(v -> fail("Slow Consumer"));
      return;
    }
    server.budget.add(bytes);
    outbox.add(data);
  }

}
