package io.dstream.cli;

import io.dstream.client.AuthenticationException;
import io.dstream.client.FileClient;
import io.dstream.client.StreamException;

/** The CLI's exit codes (docs/cli.md lists them), and which failure maps to which. */
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
  /** The subject or file does not exist. */
  static final int NOT_FOUND = 5;
  /** A wait ran out ({@code sub --timeout}, a request timeout). */
  static final int TIMEOUT = 6;

  private ExitCode() {
  }

  static int of(Throwable failure) {
    if (failure instanceof AuthenticationException) {
      return AUTHENTICATION;
    }
    if (failure instanceof StreamException stream) {
      return switch (stream.code()) {
        case StreamException.CONNECT_FAILED -> UNREACHABLE;
        case StreamException.REQUEST_TIMEOUT -> TIMEOUT;
        case FileClient.NOT_FOUND -> NOT_FOUND;
        case "forbidden" -> AUTHENTICATION;
        default -> FAILED;
      };
    }
    if (failure instanceof IllegalArgumentException) {
      return USAGE;
    }
    return FAILED;
  }
}
