package io.dstream.broker.relay;

import io.vertx.core.Handler;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.ServerWebSocket;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketBase;
import io.vertx.core.http.WebSocketFrame;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;

/**
 * A client's WebSocket and the one this node opened to the subject's leader for it: every text,
 * binary and continuation frame goes across as it came (its type, its bytes, its fragment
 * boundaries), each direction paused while the other socket's write queue is full. Pings are
 * answered on each hop; the leader's pings go on to the client, so that its connection stays open
 * while idle as it would on the leader. This node also pings the leader, whose silence beyond the
 * relay's read idle timeout closes the pair: a leader that stopped answering costs its clients that
 * long, not a TCP timeout.
 *
 * <p>Closing: a close of either side closes the other with the same code and reason where the code
 * may be sent again; a leader lost without a close frame (crash, idle timeout) closes the client with
 * 1013 (try again later), which v1 clients answer by reconnecting and subscribing again.
 *
 * <p>Threading: both sockets live on the client request's event loop (the relay connects to the
 * leader from it), so every handler here runs on that one thread.
 */
final class RelayedSocket {

  private static final Logger LOG = LoggerFactory.getLogger(RelayedSocket.class);
  /** RFC 6455 section 7.4: the service is unavailable for now; try again later. */
  static final short TRY_AGAIN_LATER = 1013;
  private static final short NORMAL = 1000;
  /** Longest close reason a close frame carries (125 bytes of payload less the 2-byte code). */
  private static final int MAX_REASON_BYTES = 123;

  private final Vertx vertx;
  private final ServerWebSocket client;
  private final WebSocket leader;
  private final Runnable released;
  private long pingTimer = -1;
  /** The close frames each side sent, if any: a socket this node closed (idle) reports a code too. */
  private WebSocketFrame clientClose;
  private WebSocketFrame leaderClose;

  /** {@code released} runs once the client's socket closed (the connection gate's count). */
  RelayedSocket(Vertx vertx, ServerWebSocket client, WebSocket leader, Runnable released) {
    this.vertx = vertx;
    this.client = client;
    this.leader = leader;
    this.released = released;
  }

  /** Wires both directions and resumes the leader's socket, paused since it opened. */
  void start(long leaderPingIntervalMs) {
    forward(client, leader, false, frame -> clientClose = frame);
    forward(leader, client, true, frame -> leaderClose = frame);
    client.exceptionHandler(e -> LOG.debug("relayed client socket failed: {}", e.toString()));
    leader.exceptionHandler(e -> LOG.debug("relayed leader socket failed: {}", e.toString()));
    client.closeHandler(v -> clientClosed());
    leader.closeHandler(v -> leaderClosed());
    pingTimer = vertx.setPeriodic(leaderPingIntervalMs, id -> leader.writePing(Buffer.buffer()));
    leader.resume();
  }

  /**
   * Data frames are written on as received: their bytes are a heap buffer of their own that only this
   * handler reads (no message handler is installed), so the write may take it over.
   */
  private static void forward(WebSocketBase from, WebSocketBase to, boolean pings, Handler<WebSocketFrame> closing) {
    to.drainHandler(v -> from.resume());
    from.frameHandler(frame -> {
      switch (frame.type()) {
        case TEXT, BINARY, CONTINUATION -> {
          to.writeFrame(frame);
          if (to.writeQueueFull()) {
            from.pause();
          }
        }
        case PING -> {
          if (pings) {
            to.writePing(frame.binaryData());
          }
        }
        // The close handlers pass it on, once the socket closed.
        case CLOSE -> closing.handle(frame);
        // Pongs end on their hop.
        default -> { }
      }
    });
  }

  private void clientClosed() {
    vertx.cancelTimer(pingTimer);
    released.run();
    if (!leader.isClosed()) {
      Short code = clientClose == null ? null : clientClose.closeStatusCode();
      leader.close(sendable(code) ? code : NORMAL, clientClose == null ? null : reason(clientClose.closeReason()));
    }
  }

  private void leaderClosed() {
    vertx.cancelTimer(pingTimer);
    if (client.isClosed()) {
      return;
    }
    if (leaderClose == null) {
      client.close(TRY_AGAIN_LATER, "the subject's leader was lost; reconnect");
    } else {
      short code = leaderClose.closeStatusCode();
      client.close(sendable(code) ? code : NORMAL, reason(leaderClose.closeReason()));
    }
  }

  /** False for the codes RFC 6455 forbids in a close frame (1005, 1006, 1015) and unassigned ones. */
  static boolean sendable(Short code) {
    if (code == null) {
      return false;
    }
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
  }

  /** {@code text} cut to what a close frame carries, on a character boundary. */
  static String reason(String text) {
    if (text == null) {
      return null;
    }
    String reason = text;
    while (reason.getBytes(StandardCharsets.UTF_8).length > MAX_REASON_BYTES) {
      reason = reason.substring(0, reason.offsetByCodePoints(0, reason.codePointCount(0, reason.length()) - 1));
    }
    return reason;
  }
}
