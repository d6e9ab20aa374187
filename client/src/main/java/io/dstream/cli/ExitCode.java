package io.dstream.cli;

import io.dstream.client.AuthenticationException;
import io.dstream.client.FileClient;
import io.dstream.client.StreamException;

/**
 * The CLI's exit codes (docs/cli.md lists them), which failure maps to which, and the one line on
 * stderr that says what failed and what to do about it.
 */
final class ExitCode {

  /** Done. */
  static final int OK = 0;
  /** The broker refused the request, or a local file could not be read or written. */
  static final int FAILED = 1;
  /** The command line is wrong (picocli's own code for usage errors). */
  static final int USAGE = 2;
  /** The credentials were refused (HTTP 401) or do not allow the call (HTTP 403). */
  static final int AUTHENTICATION = 3;
  /** The broker could not be reached. */
  static final int UNREACHABLE = 4;
  /** The subject, message or file does not exist, or nothing serves a request's subject. */
  static final int NOT_FOUND = 5;
  /** A wait ran out ({@code sub --timeout-after}, a request timeout, {@code bench --max-seconds}). */
  static final int TIMEOUT = 6;

  /** The broker's code for a subject that was never written (reads do not create subjects). */
  static final String UNKNOWN_SUBJECT = "unknown_subject";
  private static final String FORBIDDEN = "forbidden";

  private ExitCode() {
  }

  static int of(Throwable failure) {
    if (failure instanceof AuthenticationException) {
      return AUTHENTICATION;
    }
    if (failure instanceof StreamException stream) {
      return switch (stream.code()) {
        case StreamException.CONNECT_FAILED, NatsSession.NATS_CONNECT_FAILED -> UNREACHABLE;
        case StreamException.REQUEST_TIMEOUT -> TIMEOUT;
        case FileClient.NOT_FOUND, UNKNOWN_SUBJECT, NatsSession.NO_RESPONDERS -> NOT_FOUND;
        case FORBIDDEN -> AUTHENTICATION;
        default -> FAILED;
      };
    }
    if (failure instanceof IllegalArgumentException) {
      return USAGE;
    }
    return FAILED;
  }

  /** @return one line for stderr: what failed, and for the failures a user can fix, what to do */
  static String describe(Throwable failure) {
    String message = failure.getMessage() == null ? failure.toString() : failure.getMessage();
    // Parser messages (Jackson's among them) carry a second line with the source location: keep the first.
    message = message.strip().split("\\R", 2)[0];
    String code = failure instanceof StreamException stream ? stream.code() : "";
    String hint = switch (of(failure)) {
      case UNREACHABLE -> code.equals(NatsSession.NATS_CONNECT_FAILED)
          ? "is the broker running there with its NATS port open (DSTREAM_NATS_PORT)? Point --nats-url, DSTREAM_NATS_URL"
              + " or a context at it"
          : "is the broker running there? Point --url, DSTREAM_URL or a context (dstream context add) at it";
      case NOT_FOUND -> code.equals(NatsSession.NO_RESPONDERS)
          ? "nothing serves that subject: start a service on it (dstream reply SUBJECT ANSWER)" : null;
      case AUTHENTICATION -> failure instanceof AuthenticationException
          ? "check --api-key, DSTREAM_API_KEY or the context's key (a generated key is in the broker's data/api-key)"
          : "use a credential that allows it (the API key, or a token with that permission)";
      case TIMEOUT -> code.equals(StreamException.REQUEST_TIMEOUT) && message.startsWith("request to ")
          ? "the service did not answer in time: retry, or allow more with --timeout-ms"
          : "the broker did not answer in time: retry, or allow more with --timeout-ms";
      default -> code.equals(StreamException.WRONG_REVISION)
          ? "someone changed it meanwhile: read it again (dstream state get) and retry with its revision" : null;
    };
    return "dstream: " + message + (hint == null ? "" : "; " + hint);
  }
}
