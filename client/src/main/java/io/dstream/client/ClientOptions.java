package io.dstream.client;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * Where and how a client connects. Immutable and validated by {@link Builder#build()}, so one
 * instance can be shared by many connections.
 *
 * <pre>{@code
 * ClientOptions options = ClientOptions.builder()
 *     .url("http://127.0.0.1:8787")
 *     .apiKey(key)
 *     .requestTimeout(Duration.ofSeconds(10))
 *     .build();
 * }</pre>
 */
public final class ClientOptions {

  /** The broker's default address, as documented for {@code DSTREAM_HOST}/{@code DSTREAM_PORT}. */
  public static final String DEFAULT_URL = "http://127.0.0.1:8787";
  /** Default of {@link #connectTimeout()}. */
  public static final Duration DEFAULT_CONNECT_TIMEOUT = Duration.ofSeconds(10);
  /** Default of {@link #requestTimeout()}. */
  public static final Duration DEFAULT_REQUEST_TIMEOUT = Duration.ofSeconds(30);
  /** Default of {@link #maxPendingRequests()}: the broker's own per-socket bound, past which it stops reading. */
  public static final int DEFAULT_MAX_PENDING_REQUESTS = 1024;
  /** Default of {@link #maxMessageSize()}: well above the broker's default 1 MiB message limit, so any push fits. */
  public static final int DEFAULT_MAX_MESSAGE_SIZE = 16 * 1024 * 1024;
  /** Default of {@link #maxReconnectAttempts()}: with the default delays, about five minutes of trying. */
  public static final int DEFAULT_MAX_RECONNECT_ATTEMPTS = 60;
  /** Default of {@link #reconnectInitialDelay()}. */
  public static final Duration DEFAULT_RECONNECT_INITIAL_DELAY = Duration.ofMillis(100);
  /** Default of {@link #reconnectMaxDelay()}. */
  public static final Duration DEFAULT_RECONNECT_MAX_DELAY = Duration.ofSeconds(5);
  /** Default of {@link #publishWindow()}. */
  public static final int DEFAULT_PUBLISH_WINDOW = 256;
  /** The broker's default NATS port ({@code DSTREAM_NATS_PORT}), used by {@link #natsUrl()} unless one is set. */
  public static final int DEFAULT_NATS_PORT = 4222;

  private final URI url;
  private final URI natsUrl;
  private final String apiKey;
  private final Duration connectTimeout;
  private final Duration requestTimeout;
  private final int maxPendingRequests;
  private final int maxMessageSize;
  private final int maxReconnectAttempts;
  private final Duration reconnectInitialDelay;
  private final Duration reconnectMaxDelay;
  private final int publishWindow;
  private final Path trustedCertificates;

  private ClientOptions(Builder builder) {
    this.url = builder.url;
    this.natsUrl = builder.natsUrl;
    this.apiKey = builder.apiKey;
    this.connectTimeout = builder.connectTimeout;
    this.requestTimeout = builder.requestTimeout;
    this.maxPendingRequests = builder.maxPendingRequests;
    this.maxMessageSize = builder.maxMessageSize;
    this.maxReconnectAttempts = builder.maxReconnectAttempts;
    this.reconnectInitialDelay = builder.reconnectInitialDelay;
    this.reconnectMaxDelay = builder.reconnectMaxDelay;
    this.publishWindow = builder.publishWindow;
    this.trustedCertificates = builder.trustedCertificates;
  }

  /** @return a builder holding the defaults */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * @return the broker's base URL: scheme {@code http}, {@code https}, {@code ws} or {@code wss},
   *     host, port and an optional path prefix
   */
  public URI url() {
    return url;
  }

  /**
   * @return the broker's NATS address ({@code nats://}, {@code tls://}, {@code ws://} or {@code wss://}): the one
   *     set, else the host of {@link #url()} on port {@value #DEFAULT_NATS_PORT}, with {@code tls://} when
   *     {@link #url()} uses TLS (a broker with TLS serves it on its NATS port too)
   */
  public URI natsUrl() {
    if (natsUrl != null) {
      return natsUrl;
    }
    String scheme = url.getScheme().toLowerCase(Locale.ROOT);
    boolean tls = scheme.equals("https") || scheme.equals("wss");
    return URI.create((tls ? "tls" : "nats") + "://" + url.getHost() + ":" + DEFAULT_NATS_PORT);
  }

  /** @return the API key sent as {@code ?apiKey=}, or null to connect anonymously */
  public String apiKey() {
    return apiKey;
  }

  /** @return the longest time to open the TCP connection and, separately, to complete the WebSocket handshake */
  public Duration connectTimeout() {
    return connectTimeout;
  }

  /** @return the longest time a request waits for its reply; {@link Duration#ZERO} waits until the connection closes */
  public Duration requestTimeout() {
    return requestTimeout;
  }

  /**
   * @return how many requests may wait for a reply at once; a request beyond it fails with
   *     {@link StreamException#TOO_MANY_PENDING}
   */
  public int maxPendingRequests() {
    return maxPendingRequests;
  }

  /** @return the largest WebSocket message, in bytes, the client accepts from the broker */
  public int maxMessageSize() {
    return maxMessageSize;
  }

  /**
   * @return how many times in a row the client tries to reopen a lost connection before it gives up
   *     and closes; 0 turns reconnecting off
   */
  public int maxReconnectAttempts() {
    return maxReconnectAttempts;
  }

  /** @return the delay before the first reconnect attempt; it doubles per failed attempt, with jitter */
  public Duration reconnectInitialDelay() {
    return reconnectInitialDelay;
  }

  /** @return the longest delay between two reconnect attempts */
  public Duration reconnectMaxDelay() {
    return reconnectMaxDelay;
  }

  /**
   * @return how many publishes of {@link StreamConnection#publishAll(java.util.List)} wait for their reply at
   *     once (never more than {@link #maxPendingRequests()})
   */
  public int publishWindow() {
    return publishWindow;
  }

  /**
   * @return a PEM file of certificates to trust for {@code https://}/{@code wss://} in addition to
   *     the JVM's own (a broker with a self-signed or private-CA certificate), or null
   */
  public Path trustedCertificates() {
    return trustedCertificates;
  }

  @Override
  public String toString() {
    // The API key is a secret: never print it.
    return "ClientOptions[url=" + url + ", natsUrl=" + natsUrl() + ", apiKey=" + (apiKey == null ? "none" : "***")
        + ", connectTimeout=" + connectTimeout + ", requestTimeout=" + requestTimeout
        + ", maxPendingRequests=" + maxPendingRequests + ", maxMessageSize=" + maxMessageSize
        + ", maxReconnectAttempts=" + maxReconnectAttempts + ", reconnectInitialDelay=" + reconnectInitialDelay
        + ", reconnectMaxDelay=" + reconnectMaxDelay + ", publishWindow=" + publishWindow + "]";
  }

  /** Builds {@link ClientOptions}; not thread-safe. */
  public static final class Builder {
    private URI url = URI.create(DEFAULT_URL);
    private URI natsUrl;
    private String apiKey;
    private Duration connectTimeout = DEFAULT_CONNECT_TIMEOUT;
    private Duration requestTimeout = DEFAULT_REQUEST_TIMEOUT;
    private int maxPendingRequests = DEFAULT_MAX_PENDING_REQUESTS;
    private int maxMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
    private int maxReconnectAttempts = DEFAULT_MAX_RECONNECT_ATTEMPTS;
    private Duration reconnectInitialDelay = DEFAULT_RECONNECT_INITIAL_DELAY;
    private Duration reconnectMaxDelay = DEFAULT_RECONNECT_MAX_DELAY;
    private int publishWindow = DEFAULT_PUBLISH_WINDOW;
    private Path trustedCertificates;

    private Builder() {
    }

    /**
     * @param url the broker's base URL, e.g. {@code http://127.0.0.1:8787} or {@code wss://broker.example/prefix}
     * @return this builder
     * @throws IllegalArgumentException if the URL is malformed, has another scheme, or lacks a host
     */
    public Builder url(String url) {
      Objects.requireNonNull(url, "url");
      this.url = parse(url, "broker URL", "http", "https", "ws", "wss");
      return this;
    }

    /** @return {@code text} as a URI with one of the {@code schemes}, a host, and neither query nor fragment */
    private static URI parse(String text, String what, String... schemes) {
      URI parsed;
      try {
        parsed = new URI(text);
      } catch (URISyntaxException e) {
        throw new IllegalArgumentException("invalid " + what + " '" + text + "': " + e.getMessage(), e);
      }
      String scheme = parsed.getScheme() == null ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
      List<String> known = List.of(schemes);
      if (!known.contains(scheme)) {
        List<String> prefixes = known.stream().map(name -> name + "://").toList();
        throw new IllegalArgumentException(what + " '" + text + "' must start with "
            + String.join(", ", prefixes.subList(0, prefixes.size() - 1)) + " or " + prefixes.get(prefixes.size() - 1));
      }
      if (parsed.getHost() == null) {
        throw new IllegalArgumentException(what + " '" + text + "' has no host");
      }
      if (parsed.getRawQuery() != null || parsed.getRawFragment() != null) {
        throw new IllegalArgumentException(what + " '" + text + "' must not have a query or fragment");
      }
      return parsed;
    }

    /**
     * @param natsUrl the broker's NATS address, e.g. {@code nats://127.0.0.1:4222}, {@code tls://broker.example:4222}
     *     or {@code ws://127.0.0.1:8787/nats}; null derives it from {@link #url(String)} (see {@link #natsUrl()})
     * @return this builder
     * @throws IllegalArgumentException if the URL is malformed, has another scheme, or lacks a host
     */
    public Builder natsUrl(String natsUrl) {
      this.natsUrl = natsUrl == null ? null : parse(natsUrl, "NATS URL", "nats", "tls", "ws", "wss");
      return this;
    }

    /**
     * @param apiKey the broker's API key, or null to connect anonymously
     * @return this builder
     */
    public Builder apiKey(String apiKey) {
      this.apiKey = apiKey;
      return this;
    }

    /**
     * @param connectTimeout positive
     * @return this builder
     */
    public Builder connectTimeout(Duration connectTimeout) {
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      if (connectTimeout.isNegative() || connectTimeout.isZero()) {
        throw new IllegalArgumentException("connectTimeout must be positive, was " + connectTimeout);
      }
      this.connectTimeout = connectTimeout;
      return this;
    }

    /**
     * @param requestTimeout positive, or {@link Duration#ZERO} for none
     * @return this builder
     */
    public Builder requestTimeout(Duration requestTimeout) {
      Objects.requireNonNull(requestTimeout, "requestTimeout");
      if (requestTimeout.isNegative()) {
        throw new IllegalArgumentException("requestTimeout must not be negative, was " + requestTimeout);
      }
      this.requestTimeout = requestTimeout;
      return this;
    }

    /**
     * @param maxPendingRequests at least 1
     * @return this builder
     */
    public Builder maxPendingRequests(int maxPendingRequests) {
      if (maxPendingRequests < 1) {
        throw new IllegalArgumentException("maxPendingRequests must be at least 1, was " + maxPendingRequests);
      }
      this.maxPendingRequests = maxPendingRequests;
      return this;
    }

    /**
     * @param maxMessageSize in bytes, at least 1024
     * @return this builder
     */
    public Builder maxMessageSize(int maxMessageSize) {
      if (maxMessageSize < 1024) {
        throw new IllegalArgumentException("maxMessageSize must be at least 1024 bytes, was " + maxMessageSize);
      }
      this.maxMessageSize = maxMessageSize;
      return this;
    }

    /**
     * @param maxReconnectAttempts at least 0; 0 closes the connection when it is lost
     * @return this builder
     */
    public Builder maxReconnectAttempts(int maxReconnectAttempts) {
      if (maxReconnectAttempts < 0) {
        throw new IllegalArgumentException("maxReconnectAttempts must not be negative, was " + maxReconnectAttempts);
      }
      this.maxReconnectAttempts = maxReconnectAttempts;
      return this;
    }

    /**
     * @param initialDelay positive: the delay before the first attempt
     * @param maxDelay at least {@code initialDelay}: the cap of the doubling
     * @return this builder
     */
    public Builder reconnectDelays(Duration initialDelay, Duration maxDelay) {
      Objects.requireNonNull(initialDelay, "initialDelay");
      Objects.requireNonNull(maxDelay, "maxDelay");
      if (initialDelay.isNegative() || initialDelay.isZero() || maxDelay.compareTo(initialDelay) < 0) {
        throw new IllegalArgumentException("reconnect delays must satisfy 0 < initial <= max, were "
            + initialDelay + " and " + maxDelay);
      }
      this.reconnectInitialDelay = initialDelay;
      this.reconnectMaxDelay = maxDelay;
      return this;
    }

    /**
     * @param publishWindow at least 1
     * @return this builder
     */
    public Builder publishWindow(int publishWindow) {
      if (publishWindow < 1) {
        throw new IllegalArgumentException("publishWindow must be at least 1, was " + publishWindow);
      }
      this.publishWindow = publishWindow;
      return this;
    }

    /**
     * @param pemFile certificates (PEM) to trust for TLS instead of the JVM's defaults, or null for the defaults
     * @return this builder
     */
    public Builder trustedCertificates(Path pemFile) {
      this.trustedCertificates = pemFile;
      return this;
    }

    /** @return the options */
    public ClientOptions build() {
      return new ClientOptions(this);
    }
  }
}
