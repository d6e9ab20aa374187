package io.dstream.cli;

import io.dstream.client.ClientOptions;
import io.dstream.client.DurableStream;
import io.dstream.client.StreamConnection;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.io.PrintStream;
import java.time.Duration;
import picocli.CommandLine.Option;

/** The connection and output options every command takes (a picocli mixin). */
final class CommonOptions {

  @Option(names = {"-u", "--url"}, defaultValue = "${env:DSTREAM_URL:-http://127.0.0.1:8787}",
      description = "Broker URL (DSTREAM_URL, default ${DEFAULT-VALUE}).")
  String url;

  @Option(names = {"-k", "--api-key"}, defaultValue = "${env:DSTREAM_API_KEY}",
      description = "API key (DSTREAM_API_KEY).")
  String apiKey;

  @Option(names = "--json", description = "Print JSON for scripts instead of text.")
  boolean json;

  @Option(names = "--timeout-ms", defaultValue = "30000",
      description = "Longest wait for one reply from the broker (default ${DEFAULT-VALUE}).")
  long timeoutMs;

  ClientOptions clientOptions() {
    return builder().build();
  }

  /** @return a builder holding the connection settings, for commands that add their own */
  ClientOptions.Builder builder() {
    return ClientOptions.builder().url(url).apiKey(apiKey == null || apiKey.isBlank() ? null : apiKey)
        .requestTimeout(Duration.ofMillis(timeoutMs));
  }

  /** Opens a connection on a Vert.x instance of its own; connection-level errors go to stderr. */
  StreamConnection connect(String subject) {
    StreamConnection connection = DurableStream.connect(clientOptions(), subject).await();
    connection.errorHandler(e -> System.err.println("dstream: " + e.code() + ": " + e.getMessage()));
    return connection;
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
