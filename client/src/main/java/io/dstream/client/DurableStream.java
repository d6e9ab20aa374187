package io.dstream.client;

import io.dstream.client.impl.AdminClientImpl;
import io.dstream.client.impl.FileClientImpl;
import io.dstream.client.impl.HttpCalls;
import io.dstream.client.impl.StreamConnectionImpl;
import io.dstream.client.impl.TrustedCertificates;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.util.Objects;

/**
 * Entry point of the client. Messaging is the NATS client protocol (protocol v2) through jnats: {@link #connectNats}
 * opens a jnats {@link Connection} to the broker with our credentials, and from there it is plain jnats code
 * (publish, subscribe with wildcards, request/reply, headers, {@code jetStream().publish} for a durable
 * acknowledgement). What NATS has no word for comes from here too, with the same {@link ClientOptions}:
 * {@link #files} (the file API) and {@link #admin} (subjects, state, stored messages, deletion).
 *
 * <pre>{@code
 * ClientOptions options = ClientOptions.builder().url("http://127.0.0.1:8787").apiKey(apiKey).build();
 * try (Connection nats = DurableStream.connectNats(options)) {
 *   PublishAck ack = nats.jetStream().publish("orders.eu", "{\"id\":42}".getBytes(StandardCharsets.UTF_8));
 *   long sequence = ack.getSeqno();                     // durable: stored (and synced) before the ack
 * }
 * }</pre>
 *
 * <p>The {@code connect} methods open a {@link StreamConnection}: protocol v1, one WebSocket per subject. It stays
 * supported and wire-compatible: a replay of one subject from a sequence or a time with per-message acks, as a
 * JetStream consumer does over NATS. A failed v1 connect fails with {@link AuthenticationException} when
 * the key is refused, and with a {@link StreamException} otherwise (the broker's code for a rejected subject, or
 * {@link StreamException#CONNECT_FAILED}).
 */
public final class DurableStream {

  private DurableStream() {
  }

  /**
   * The jnats options for the broker's NATS port: the server {@link ClientOptions#natsUrl()}, the API key or JWT of
   * {@link ClientOptions#apiKey()} as the token, the {@link ClientOptions#trustedCertificates()} for {@code tls://}
   * and {@code wss://}, and {@link ClientOptions#connectTimeout()}. Everything else is jnats' default: add your own
   * settings (an error listener, reconnect policy, {@code reportNoResponders()}, ...) and call
   * {@code Nats.connect(builder.build())}.
   *
   * @param options the broker's address and credentials
   * @return a builder holding them
   */
  public static Options.Builder natsOptions(ClientOptions options) {
    Objects.requireNonNull(options, "options");
    Options.Builder builder = new Options.Builder().server(options.natsUrl().toString())
        .connectionTimeout(options.connectTimeout());
    if (options.apiKey() != null) {
      builder.token(options.apiKey().toCharArray());
    }
    if (options.trustedCertificates() != null) {
      builder.sslContext(TrustedCertificates.sslContext(options.trustedCertificates()));
    }
    return builder;
  }

  /**
   * Opens a jnats connection to the broker's NATS port with {@link #natsOptions(ClientOptions)}. The first connect is
   * not retried; once open, jnats reconnects by its own defaults.
   *
   * @param options the broker's address and credentials
   * @return the open connection; close it when done
   * @throws io.nats.client.AuthenticationException when the broker refuses the credential
   * @throws IOException when the broker cannot be reached
   * @throws InterruptedException when interrupted while connecting
   */
  public static Connection connectNats(ClientOptions options) throws IOException, InterruptedException {
    return Nats.connect(natsOptions(options).build());
  }

  /**
   * Opens a client for the broker's admin API ({@code /admin/}). It needs no Vert.x instance; close it to release
   * its threads.
   *
   * @param options the broker's address and credentials (the API key, or a JWT with admin rights)
   * @return the admin client
   */
  public static AdminClient admin(ClientOptions options) {
    return new AdminClientImpl(new HttpCalls(Objects.requireNonNull(options, "options")));
  }

  /**
   * Connects with protocol v1, default options, on an existing Vert.x instance, which the caller keeps owning.
   *
   * @param vertx the Vert.x instance to run on
   * @param url the broker's base URL, e.g. {@code http://127.0.0.1:8787}
   * @param subject the stream's subject, e.g. {@code orders.eu}
   * @param apiKey the API key, or null to connect anonymously
   * @return the open connection
   */
  public static Future<StreamConnection> connect(Vertx vertx, String url, String subject, String apiKey) {
    return connect(vertx, ClientOptions.builder().url(url).apiKey(apiKey).build(), subject);
  }

  /**
   * Connects with protocol v1 on an existing Vert.x instance, which the caller keeps owning.
   *
   * @param vertx the Vert.x instance to run on
   * @param options the broker's address, credentials and limits
   * @param subject the stream's subject
   * @return the open connection
   */
  public static Future<StreamConnection> connect(Vertx vertx, ClientOptions options, String subject) {
    return StreamConnectionImpl.connect(vertx, false, options, subject);
  }

  /**
   * Connects with protocol v1 and default options on a Vert.x instance of its own, closed with the connection.
   *
   * @param url the broker's base URL
   * @param subject the stream's subject
   * @param apiKey the API key, or null to connect anonymously
   * @return the open connection
   */
  public static Future<StreamConnection> connect(String url, String subject, String apiKey) {
    return connect(ClientOptions.builder().url(url).apiKey(apiKey).build(), subject);
  }

  /**
   * Opens a client for the broker's file API ({@code /r2/}). It needs no Vert.x instance; close it
   * to release its threads.
   *
   * @param options the broker's address and credentials
   * @return the file client
   */
  public static FileClient files(ClientOptions options) {
    return new FileClientImpl(Objects.requireNonNull(options, "options"));
  }

  /**
   * Connects with protocol v1 on a Vert.x instance of its own, closed with the connection. Its threads keep the JVM
   * alive until {@link StreamConnection#close()}.
   *
   * @param options the broker's address, credentials and limits
   * @param subject the stream's subject
   * @return the open connection
   */
  public static Future<StreamConnection> connect(ClientOptions options, String subject) {
    Objects.requireNonNull(options, "options");
    return StreamConnectionImpl.connect(StreamConnectionImpl.createOwnedVertx(), true, options, subject);
  }
}
