package io.dstream.client;

import io.dstream.client.impl.FileClientImpl;
import io.dstream.client.impl.StreamConnectionImpl;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.Objects;

/**
 * Entry point of the client: opens {@link StreamConnection}s to a durable-stream broker.
 *
 * <pre>{@code
 * // From a plain thread; on a Vert.x thread, compose the futures instead of awaiting them.
 * StreamConnection connection = DurableStream.connect(vertx, "http://127.0.0.1:8787", "orders.eu", apiKey)
 *     .await();
 * long sequence = connection.publish(new JsonObject().put("id", 42)).await();
 * connection.subscribe(SubscribeOptions.fromSequence(sequence), message -> handle(message.data()));
 * }</pre>
 *
 * <p>A failed connect fails with {@link AuthenticationException} when the key is refused, and with a
 * {@link StreamException} otherwise (the broker's code for a rejected subject, or
 * {@link StreamException#CONNECT_FAILED}).
 */
public final class DurableStream {

  private DurableStream() {
  }

  /**
   * Connects with default options on an existing Vert.x instance, which the caller keeps owning.
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
   * Connects on an existing Vert.x instance, which the caller keeps owning.
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
   * Connects with default options on a Vert.x instance of its own, closed with the connection.
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
   * Connects on a Vert.x instance of its own, closed with the connection. Its threads keep the JVM
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
