package io.dstream.broker.relay;

import io.vertx.core.MultiMap;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

/**
 * Which headers cross the relay. End-to-end headers (credentials included: the leader authenticates
 * the request again) pass unchanged; hop-by-hop headers (RFC 9110 section 7.6.1, and any the
 * {@code Connection} header names) belong to one connection and are made anew on each. The relayed
 * request gains {@link #RELAYED_BY} and the client's address appended to {@code X-Forwarded-For}.
 * Stateless.
 */
final class RelayHeaders {

  /** Names the node that relayed a request; its leader never relays it again. */
  static final String RELAYED_BY = "DStream-Relayed-By";

  private static final Set<String> HOP_BY_HOP = Set.of("connection", "proxy-connection", "keep-alive", "te",
      "transfer-encoding", "trailer", "upgrade", "proxy-authenticate", "proxy-authorization");
  /**
   * Not relayed either: {@code Host} (the relay keeps the client's authority separately, so absolute
   * URIs the leader builds name the node the client reached), {@code Expect} (this node answers
   * {@code 100-continue} itself, as its body handler does for a local request) and, on a WebSocket,
   * the handshake's own headers, which the relay's client makes for its hop.
   */
  private static final Set<String> REQUEST_OWN = Set.of("host", "expect", "sec-websocket-key",
      "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept");
  private static final String FORWARDED_FOR = "X-Forwarded-For";

  private RelayHeaders() {
  }

  /** The headers of the request to the leader: {@code request}'s end-to-end ones and the relay's marks. */
  static MultiMap request(HttpServerRequest request, String nodeId) {
    MultiMap from = request.headers();
    Set<String> named = connectionTokens(from);
    MultiMap to = MultiMap.caseInsensitiveMultiMap();
    for (var header : from) {
      String name = header.getKey().toLowerCase(Locale.ROOT);
      if (!HOP_BY_HOP.contains(name) && !REQUEST_OWN.contains(name) && !named.contains(name)
          && !name.equals("x-forwarded-for")) {
        to.add(header.getKey(), header.getValue());
      }
    }
    String forwardedFor = forwardedFor(from.get(FORWARDED_FOR), request.remoteAddress());
    if (forwardedFor != null) {
      to.set(FORWARDED_FOR, forwardedFor);
    }
    to.set(RELAYED_BY, nodeId);
    return to;
  }

  /**
   * Copies the leader's end-to-end response headers onto this node's response, replacing any of the
   * same name this node set (the Durable Streams view's CORS headers, set before relaying).
   */
  static void response(MultiMap from, MultiMap to) {
    Set<String> named = connectionTokens(from);
    for (String name : from.names()) {
      String lower = name.toLowerCase(Locale.ROOT);
      if (!HOP_BY_HOP.contains(lower) && !named.contains(lower)) {
        to.set(name, from.getAll(name));
      }
    }
  }

  /**
   * The client's address appended to the chain it came with, as every proxy does, so that a leader
   * trusting this node as a proxy stores the client's address, not this node's.
   */
  private static String forwardedFor(String chain, SocketAddress peer) {
    String address = peer == null ? null : peer.hostAddress();
    if (address == null) {
      return chain;
    }
    return chain == null || chain.isBlank() ? address : chain + ", " + address;
  }

  private static Set<String> connectionTokens(MultiMap headers) {
    String connection = headers.get("Connection");
    if (connection == null) {
      return Set.of();
    }
    Set<String> tokens = new HashSet<>();
    for (String token : connection.split(",")) {
      tokens.add(token.trim().toLowerCase(Locale.ROOT));
    }
    return tokens;
  }
}
