package io.dstream.cli;

import io.dstream.client.AuthenticationException;
import io.dstream.client.ClientOptions;
import io.dstream.client.DurableStream;
import io.dstream.client.StreamException;
import io.nats.client.Connection;
import io.nats.client.ConnectionListener;
import io.nats.client.Consumer;
import io.nats.client.ErrorListener;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamOptions;
import io.nats.client.JetStreamStatusException;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.Subscription;
import io.nats.client.support.Status;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One NATS connection of a command ({@code pub}, {@code sub PATTERN}, {@code req}, {@code reply}), opened with the
 * library's {@link DurableStream#natsOptions}: every wait is bounded by {@code --timeout-ms}, and every failure
 * becomes the {@link StreamException} {@link ExitCode} maps. That includes the broker's {@code -ERR} lines, which
 * jnats hands only to its error listener: a publish outside a token's scope gets no PubAck, only
 * {@code -ERR 'Permissions Violation ...'}, so a wait ends as soon as one arrives instead of at its timeout.
 *
 * <p>Used from the command's main thread; the listeners run on jnats' threads and only complete {@link #failure}.
 */
final class NatsSession implements AutoCloseable {

  /** Nothing subscribes to the subject of a request (the broker's 503 status reply). */
  static final String NO_RESPONDERS = "no_responders";
  /** The broker's NATS port could not be reached. */
  static final String NATS_CONNECT_FAILED = "nats_connect_failed";
  /** The broker answered a JetStream API error (a failed expectation header, a refused stream config). */
  static final String JETSTREAM_ERROR = "jetstream_error";
  /** Another {@code -ERR} of the broker. */
  static final String NATS_ERROR = "nats_error";
  /** The broker's code for a credential that does not allow the call, which {@link ExitCode} maps to exit 3. */
  private static final String FORBIDDEN = "forbidden";

  private final Connection connection;
  private final CompletableFuture<Void> failure;
  private final AtomicBoolean closing;
  private final Duration timeout;

  private NatsSession(Connection connection, CompletableFuture<Void> failure, AtomicBoolean closing, Duration timeout) {
    this.connection = connection;
    this.failure = failure;
    this.closing = closing;
    this.timeout = timeout;
  }

  /** Connects to {@link ClientOptions#natsUrl()}; a refused credential or an unreachable port fails at once. */
  static NatsSession open(ClientOptions options) {
    CompletableFuture<Void> failure = new CompletableFuture<>();
    AtomicBoolean closing = new AtomicBoolean();
    Listener listener = new Listener(failure, new AtomicReference<>());
    Options nats = DurableStream.natsOptions(options)
        .errorListener(listener)
        .connectionListener((connection, event) -> {
          if (event == ConnectionListener.Events.CLOSED && !closing.get()) {
            failure.completeExceptionally(new StreamException(StreamException.CONNECTION_CLOSED,
                "the NATS connection to " + options.natsUrl() + " closed"));
          }
        })
        // A request nobody serves fails with the 503 status rather than an anonymous cancellation.
        .reportNoResponders()
        .build();
    String server = options.natsUrl().toString();
    CompletableFuture<Connection> connected = connectInBackground(nats);
    try {
      CompletableFuture.anyOf(connected, failure).get();
    } catch (ExecutionException e) {
      // Either one failed: told apart below.
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamException(StreamException.CONNECT_FAILED, "interrupted while connecting to " + server, e);
    }
    // jnats waits out its whole connect timeout after the broker's -ERR 'Authorization Violation', which the
    // listener hears at once: a refused credential fails now. Anything else is jnats' connect's own outcome.
    boolean refused = !connected.isDone() && causeOf(failure) instanceof AuthenticationException;
    Throwable cause = refused ? causeOf(failure) : causeOf(connected);
    if (cause == null) {
      return new NatsSession(connected.join(), failure, closing, options.requestTimeout());
    }
    if (cause instanceof io.nats.client.AuthenticationException || cause instanceof AuthenticationException) {
      throw new AuthenticationException(AuthenticationException.UNAUTHORIZED,
          "the broker refused the credential on " + server + " (Authorization Violation)");
    }
    if (cause instanceof IOException) {
      // jnats' own message only names the server; the cause went to the error listener.
      Exception transport = listener.lastException().get();
      throw new StreamException(NATS_CONNECT_FAILED, "cannot connect to " + server + " ("
          + reason(transport == null ? cause : transport) + ")", cause);
    }
    throw cause instanceof RuntimeException runtime ? runtime
        : new StreamException(StreamException.CONNECT_FAILED, "cannot connect to " + server + ": " + reason(cause), cause);
  }

  /** Runs jnats' blocking connect on a daemon thread, so that the caller can stop waiting for it. */
  private static CompletableFuture<Connection> connectInBackground(Options nats) {
    CompletableFuture<Connection> connected = new CompletableFuture<>();
    Thread connector = new Thread(() -> {
      try {
        connected.complete(Nats.connect(nats));
      } catch (IOException | InterruptedException | RuntimeException e) {
        connected.completeExceptionally(e);
      }
    }, "dstream-nats-connect");
    connector.setDaemon(true);
    connector.start();
    return connected;
  }

  /** @return why {@code future} failed, or null once it succeeded (waiting for it to end) */
  private static Throwable causeOf(CompletableFuture<?> future) {
    try {
      future.join();
      return null;
    } catch (CompletionException e) {
      return e.getCause() == null ? e : e.getCause();
    }
  }

  Connection connection() {
    return connection;
  }

  /** @return JetStream whose publishes wait for their PubAck as long as {@code --timeout-ms} */
  JetStream jetStream() {
    try {
      return connection.jetStream(JetStreamOptions.builder().requestTimeout(timeout).build());
    } catch (IOException e) {
      throw new StreamException(StreamException.TRANSPORT_ERROR, "JetStream: " + e.getMessage(), e);
    }
  }

  /** @return the broker's first {@code -ERR}, or the connection's close, as a failed future */
  CompletableFuture<Void> failure() {
    return failure;
  }

  /** Fails with the broker's {@code -ERR} or the connection's close if either happened. */
  void check() {
    if (failure.isCompletedExceptionally()) {
      throwFailure();
    }
  }

  private void throwFailure() {
    try {
      failure.join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof RuntimeException cause ? cause : e;
    }
  }

  /** Round trip to the broker: what was sent before it (a SUB) has been read, and any {@code -ERR} for it is here. */
  void flush() {
    try {
      connection.flush(timeout);
    } catch (TimeoutException e) {
      throw new StreamException(StreamException.REQUEST_TIMEOUT, "the broker did not answer a PING within "
          + timeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamException(StreamException.CONNECTION_CLOSED, "interrupted", e);
    }
    check();
  }

  /**
   * Subscribes, and waits until the broker has read the SUB: a refused one fails here rather than at the first wait;
   * then says so on stderr.
   *
   * @param queue the queue group, or null
   */
  Subscription subscribe(String subject, String queue) {
    Subscription subscription = queue == null ? connection.subscribe(subject) : connection.subscribe(subject, queue);
    flush();
    // As the nats CLI does: a live subscription prints nothing until a message comes, so say it is in place (on
    // stderr, apart from the messages), which a script can also wait for.
    System.err.println("listening on " + subject + (queue == null ? "" : " in queue group " + queue) + " at "
        + connection.getConnectedUrl());
    return subscription;
  }

  /**
   * @return the subscription's next message within {@code wait}, or null; fails on a broker {@code -ERR} or the
   *     connection's close (jnats itself reconnects and subscribes again before that)
   */
  Message next(Subscription subscription, Duration wait) {
    check();
    try {
      Message message = subscription.nextMessage(wait);
      check();
      return message;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamException(StreamException.CONNECTION_CLOSED, "interrupted", e);
    } catch (IllegalStateException e) {
      // The subscription or connection closed under the wait: say why, if the listeners know.
      check();
      throw new StreamException(StreamException.CONNECTION_CLOSED, "the NATS subscription closed: " + e.getMessage(),
          e);
    }
  }

  /**
   * Waits for {@code pending}, at most {@code --timeout-ms}, failing at once on a broker {@code -ERR}.
   *
   * @param what what is awaited, for messages: "request to svc.echo", "publish to orders.eu"
   */
  <T> T await(CompletableFuture<T> pending, String what) {
    try {
      CompletableFuture.anyOf(pending, failure).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      throw new StreamException(StreamException.REQUEST_TIMEOUT, what + " got no answer within "
          + timeout.toMillis() + " ms", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new StreamException(StreamException.CONNECTION_CLOSED, what + " interrupted", e);
    } catch (ExecutionException | CancellationException e) {
      // Either one failed: told apart below.
    }
    if (!pending.isDone()) {
      // anyOf ended without pending, so the broker's -ERR or the connection's close ended it.
      throwFailure();
    }
    try {
      return pending.join();
    } catch (CancellationException e) {
      throw new StreamException(StreamException.REQUEST_TIMEOUT, what + " got no answer in time", e);
    } catch (RuntimeException e) {
      throw translate(e.getCause() == null ? e : e.getCause(), what);
    }
  }

  /** @return the {@link StreamException} for a failure jnats reported */
  private static StreamException translate(Throwable failure, String what) {
    for (Throwable cause = failure; cause != null; cause = cause.getCause()) {
      if (cause instanceof StreamException stream) {
        return stream;
      }
      if (cause instanceof JetStreamApiException api) {
        return new StreamException(JETSTREAM_ERROR, what + " refused: " + api.getErrorDescription()
            + " (JetStream error " + api.getApiErrorCode() + ")", api);
      }
      boolean noResponders = cause instanceof JetStreamStatusException status
          ? status.getStatus().getCode() == Status.NO_RESPONDERS_CODE
          : String.valueOf(cause.getMessage()).contains(Status.NO_RESPONDERS_TEXT);
      if (noResponders) {
        return new StreamException(NO_RESPONDERS, what + ": no responders", cause);
      }
    }
    return new StreamException(StreamException.TRANSPORT_ERROR, what + " failed: " + reason(failure), failure);
  }

  private static String reason(Throwable failure) {
    String message = failure.getMessage();
    return message == null || message.isBlank() ? failure.getClass().getSimpleName() : message;
  }

  @Override
  public void close() {
    closing.set(true);
    try {
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Turns the broker's {@code -ERR} lines into {@link #failure} and keeps the last transport failure for the connect
   * message; jnats' own logging of them would be noise here.
   */
  private record Listener(CompletableFuture<Void> failure, AtomicReference<Exception> lastException)
      implements ErrorListener {
    @Override
    public void errorOccurred(Connection connection, String error) {
      String text = error.replace("'", "");
      StreamException reported;
      if (text.startsWith("Permissions Violation")) {
        reported = new StreamException(FORBIDDEN, "the broker refused: " + text);
      } else if (text.startsWith("Authorization Violation")) {
        reported = new AuthenticationException(AuthenticationException.UNAUTHORIZED,
            "the broker refused the credential (" + text + ")");
      } else {
        reported = new StreamException(NATS_ERROR, "the broker reported: " + text);
      }
      failure.completeExceptionally(reported);
    }

    @Override
    public void exceptionOccurred(Connection connection, Exception exception) {
      // Transport failures while jnats connects or reconnects; a connection that stays lost ends in CLOSED.
      lastException.set(exception);
    }

    @Override
    public void slowConsumerDetected(Connection connection, Consumer consumer) {
      // Losing messages silently would be worse than a line: jnats drops what exceeds its pending limits.
      System.err.println("dstream: too slow: the client dropped messages it could not print fast enough");
    }
  }
}
