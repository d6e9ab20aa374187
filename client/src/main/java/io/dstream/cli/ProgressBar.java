package io.dstream.cli;

import java.io.PrintStream;

/**
 * A one-line progress bar on stderr, drawn only when the CLI runs on a terminal
 * ({@link System#console()} is not null), so piped output and logs stay clean. Thread-safe; redraws
 * at most every {@value #REDRAW_MILLIS} ms.
 */
final class ProgressBar {

  private static final long REDRAW_MILLIS = 100;
  private static final int WIDTH = 30;

  private final String label;
  private final boolean enabled;
  private final PrintStream out;
  private long lastDraw;

  ProgressBar(String label, boolean quiet) {
    this.label = label;
    this.enabled = !quiet && System.console() != null;
    this.out = System.err;
  }

  /** @param total the expected amount, or a negative number when unknown */
  synchronized void update(long done, long total) {
    long now = System.currentTimeMillis();
    if (!enabled || now - lastDraw < REDRAW_MILLIS && done != total) {
      return;
    }
    lastDraw = now;
    if (total > 0) {
      int filled = (int) Math.min(WIDTH, done * WIDTH / total);
      out.print("\r" + label + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] "
          + Math.min(100, done * 100 / total) + "% " + done + "/" + total);
    } else {
      out.print("\r" + label + " " + done);
    }
    out.flush();
  }

  /** Ends the bar's line. */
  synchronized void finish() {
    if (enabled && lastDraw != 0) {
      out.println();
    }
  }
}
