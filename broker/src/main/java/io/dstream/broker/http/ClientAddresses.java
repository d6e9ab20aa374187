package io.dstream.broker.http;

import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.net.SocketAddress;

import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The client address shown in stored messages: the peer's address, or, when the peer is a
 * configured trusted proxy, the right-most {@code X-Forwarded-For} entry that is not itself a
 * trusted proxy (entries further left are client-supplied and could be forged). Thread-safe.
 */
public final class ClientAddresses {

  private static final Pattern IP_LITERAL = Pattern.compile("[0-9a-fA-F:.]+");

  /** A trusted address range: network bits of {@code prefix} over an address of {@code bits} bits. */
  private record Range(BigInteger network, int prefix, int bits) {
    boolean contains(BigInteger address, int addressBits) {
      if (addressBits != bits) {
        return false;
      }
      int shift = bits - prefix;
      return address.shiftRight(shift).equals(network.shiftRight(shift));
    }
  }

  private final List<Range> trusted = new ArrayList<>();

  /** @param trustedProxies IP addresses or CIDR ranges ({@code 10.0.0.0/8}, {@code ::1}) */
  public ClientAddresses(List<String> trustedProxies) {
    for (String entry : trustedProxies) {
      String[] parts = entry.trim().split("/", 2);
      InetAddress address = literal(parts[0]);
      if (address == null) {
        throw new IllegalArgumentException("trusted proxy '" + entry + "' is not an IP address or CIDR range");
      }
      int bits = address.getAddress().length * 8;
      int prefix = parts.length == 2 ? Integer.parseInt(parts[1]) : bits;
      if (prefix < 0 || prefix > bits) {
        throw new IllegalArgumentException("trusted proxy '" + entry + "' has a bad prefix length");
      }
      trusted.add(new Range(new BigInteger(1, address.getAddress()), prefix, bits));
    }
  }

  /** The client's address for {@code request}, or null if the peer address is unknown. */
  public String resolve(HttpServerRequest request) {
    SocketAddress remote = request.remoteAddress();
    String peer = remote == null ? null : remote.hostAddress();
    if (peer == null || !isTrusted(peer)) {
      return peer;
    }
    String forwarded = request.getHeader("X-Forwarded-For");
    if (forwarded == null) {
      return peer;
    }
    String[] hops = forwarded.split(",");
    for (int i = hops.length - 1; i >= 0; i--) {
      String hop = hops[i].trim();
      if (literal(hop) == null) {
        return peer;
      }
      if (!isTrusted(hop)) {
        return hop;
      }
    }
    return hops[0].trim();
  }

  private boolean isTrusted(String address) {
    InetAddress parsed = literal(address);
    if (parsed == null) {
      return false;
    }
    BigInteger value = new BigInteger(1, parsed.getAddress());
    int bits = parsed.getAddress().length * 8;
    for (Range range : trusted) {
      if (range.contains(value, bits)) {
        return true;
      }
    }
    return false;
  }

  /** Parses an IP literal without ever resolving a host name. */
  private static InetAddress literal(String text) {
    if (text.isEmpty() || !IP_LITERAL.matcher(text).matches()) {
      return null;
    }
    try {
      return InetAddress.getByName(text);
    } catch (UnknownHostException e) {
      return null;
    }
  }
}
