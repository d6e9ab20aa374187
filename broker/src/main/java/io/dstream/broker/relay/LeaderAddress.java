package io.dstream.broker.relay;

import java.net.URI;

/** Where a leader's HTTP listener is, from the {@code http://host:port} its routing names. Immutable. */
record LeaderAddress(String host, int port, boolean ssl) {

  /** @throws IllegalArgumentException when {@code url} is not an http(s) URL with a host */
  static LeaderAddress parse(String url) {
    URI uri = URI.create(url);
    String scheme = uri.getScheme();
    boolean ssl = "https".equalsIgnoreCase(scheme);
    if ((!ssl && !"http".equalsIgnoreCase(scheme)) || uri.getHost() == null) {
      throw new IllegalArgumentException("a leader's address must be http://host:port, was '" + url + "'");
    }
    String host = uri.getHost();
    if (host.startsWith("[") && host.endsWith("]")) {
      host = host.substring(1, host.length() - 1);
    }
    return new LeaderAddress(host, uri.getPort() != -1 ? uri.getPort() : ssl ? 443 : 80, ssl);
  }

  @Override
  public String toString() {
    return (ssl ? "https://" : "http://") + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + port;
  }
}
