package io.dstream.cli;

import io.dstream.client.ClientOptions;
import io.dstream.client.DurableStream;
import io.dstream.client.StreamConnection;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import picocli.CommandLine.Option;

/**
 * The connection and output options every command takes (a picocli mixin). Each connection setting
 * comes from its flag, else its environment variable, else the context ({@code --context},
 * {@code DSTREAM_CONTEXT}, or the selected one), else the default.
 */
final class CommonOptions {

  static final String DEFAULT_URL = "http://127.0.0.1:8787";

  @Option(names = {"-u", "--url"}, description = "Broker URL (else DSTREAM_URL, the context's, or " + DEFAULT_URL + ").")
  String url;

  @Option(names = {"-k", "--api-key"}, description = "API key or JWT (else DSTREAM_API_KEY, or the context's).")
  String apiKey;

  @Option(names = "--nats-url", description = "The broker's NATS URL, for the commands that speak NATS (else"
      + " DSTREAM_NATS_URL, the context's, or nats://HOST-OF-URL:4222).")
  String natsUrl;

  @Option(names = "--context", paramLabel = "NAME", description = "Use this saved context (else DSTREAM_CONTEXT, or the selected one).")
  String context;

  @Option(names = "--ca-file", paramLabel = "PEM", description = "Trust these certificates for https/wss (else the context's).")
  Path trustedCertificates;

  @Option(names = "--json", description = "Print JSON for scripts instead of text.")
  boolean json;

  @Option(names = "--timeout-ms", defaultValue = "30000",
      description = "Longest wait for one reply from the broker (default ${DEFAULT-VALUE}).")
  long timeoutMs;

  private ClientOptions resolved;

  ClientOptions clientOptions() {
    if (resolved == null) {
      resolved = builder().build();
    }
    return resolved;
  }

  /** @return a builder holding the connection settings, for commands that add their own */
  ClientOptions.Builder builder() {
    Contexts.Context saved = savedContext();
    String resolvedUrl = first(url, System.getenv("DSTREAM_URL"), saved == null ? null : saved.url(), DEFAULT_URL);
    String key = first(apiKey, System.getenv("DSTREAM_API_KEY"), saved == null ? null : saved.apiKey(), null);
    // Unset, ClientOptions derives it from the URL's host: the broker's default NATS port on the same machine.
    String resolvedNatsUrl = first(natsUrl, System.getenv("DSTREAM_NATS_URL"), saved == null ? null : saved.natsUrl(),
        null);
    Path trusted = trustedCertificates != null ? trustedCertificates
        : saved != null && saved.trustedCertificates() != null ? Path.of(saved.trustedCertificates()) : null;
    if (timeoutMs < 1) {
      throw new IllegalArgumentException("--timeout-ms must be at least 1");
    }
    // Connecting is part of the longest wait, never longer than the client's own connect timeout.
    Duration timeout = Duration.ofMillis(timeoutMs);
    return ClientOptions.builder().url(resolvedUrl).natsUrl(resolvedNatsUrl).apiKey(key).trustedCertificates(trusted)
        .requestTimeout(timeout)
        .connectTimeout(timeout.compareTo(ClientOptions.DEFAULT_CONNECT_TIMEOUT) < 0 ? timeout
            : ClientOptions.DEFAULT_CONNECT_TIMEOUT);
  }

  /** The context to fill in settings that neither a flag nor a variable gives; the file is read only then. */
  private Contexts.Context savedContext() {
    String name = first(context, System.getenv("DSTREAM_CONTEXT"), null, null);
    if (name != null) {
      return Contexts.load().get(name);
    }
    boolean complete = first(url, System.getenv("DSTREAM_URL"), null, null) != null
        && first(apiKey, System.getenv("DSTREAM_API_KEY"), null, null) != null;
    return complete || !Files.exists(Contexts.directory().resolve(Contexts.FILE_NAME))
        ? null : Contexts.load().selected();
  }

  private static String first(String flag, String variable, String saved, String fallback) {
    for (String value : new String[] {flag, variable, saved}) {
      if (value != null && !value.isBlank()) {
        return value;
      }
    }
    return fallback;
  }

  /** Opens a connection on a Vert.x instance of its own; connection-level errors go to stderr. */
  StreamConnection connect(String subject) {
    StreamConnection connection = DurableStream.connect(clientOptions(), subject).await();
    connection.errorHandler(e -> System.err.println("dstream: " + e.code() + ": " + e.getMessage()));
    return connection;
  }

  /** Opens a NATS connection to the broker, for the commands that speak NATS. */
  NatsSession nats() {
    return NatsSession.open(clientOptions());
  }

  /** Awaits a future from the CLI's main thread. */
  static <T> T await(Future<T> future) {
    return future.await();
  }

  /** Prints {@code object} as one JSON line with --json, else {@code text}. */
  void print(PrintStream out, JsonObject object, String text) {
    out.println(json ? object.encode() : text);
  }
}
