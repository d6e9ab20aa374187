package io.dstream.bench.load;

/**
 * A system cannot run a scenario yet (a server answered that it does not offer what the scenario
 * needs). The matrix shows the row as "n/a (reason)" instead of counting a failed run.
 */
final class NotAvailableException extends Exception {

  private final String reason;

  NotAvailableException(String reason, Throwable cause) {
    super(reason + ": " + cause.getMessage(), cause);
    this.reason = reason;
  }

  String reason() {
    return reason;
  }
}
