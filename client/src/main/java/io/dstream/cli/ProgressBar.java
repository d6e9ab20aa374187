package io.dstream.cli;

import java.io.PrintStream;

/**
 * A one-line progress bar on stderr with the amount done, the rate and the time left, drawn only
 * when the CLI runs on a terminal ({@link System#console()} is not null), so piped output and logs
 * stay clean. Thread-safe; redraws at most every {@value #REDRAW_MILLIS} ms.
 */
final class ProgressBar {

  private static final long REDRAW_MILLIS = 100;
  private static final int WIDTH = 24;

  private final String label;
  private final boolean enabled;
  private final boolean bytes;
  private final PrintStream out;
  private final long startNanos = System.nanoTime();
  private long lastDraw;

  /** @param bytes whether the amounts are bytes (shown in kB/MB/GB) or items */
  ProgressBar(String label, boolean quiet, boolean bytes) {
    this.label = label;
    this.enabled = !quiet && System.console() != null;
    this.bytes = bytes;
    this.out = System.err;
  }

  /** @param total the expected amount, or a negative number when unknown */
  synchronized void update(long done, long total) {
    long now = System.currentTimeMillis();
    if (!enabled || now - lastDraw < REDRAW_MILLIS && done != total) {
      return;
    }
    lastDraw = now;
    out.print("\r" + line(done, total, (System.nanoTime() - startNanos) / 1e9) + "\033[K");
    out.flush();
  }

  /** The bar's text after {@code seconds}: label, bar, percentage, amounts, rate and what is left. */
  String line(long done, long total, double seconds) {
    double rate = seconds > 0 ? done / seconds : 0;
    String speed = amount(rate) + (bytes ? "/s" : " /s");
    if (total <= 0) {
      return label + " " + amount(done) + "  " + speed;
    }
    int filled = (int) Math.min(WIDTH, done * WIDTH / total);
    String left = rate > 0 ? duration((total - done) / rate) : "?";
    return label + " [" + "#".repeat(filled) + " ".repeat(WIDTH - filled) + "] " + Math.min(100, done * 100 / total)
        + "% " + amount(done) + "/" + amount(total) + "  " + speed + "  ETA " + left;
  }

  private String amount(double value) {
    if (!bytes) {
      return String.format("%,.0f", value);
    }
    String[] units = {"B", "kB", "MB", "GB", "TB"};
    int unit = 0;
    while (value >= 1000 && unit < units.length - 1) {
      value /= 1000;
      unit++;
    }
    return unit == 0 ? String.format("%.0f %s", value, units[0]) : String.format("%.1f %s", value, units[unit]);
  }

  private static String duration(double seconds) {
    long s = Math.round(seconds);
    return s < 60 ? s + "s" : s < 3600 ? s / 60 + "m" + String.format("%02d", s % 60) + "s"
        : s / 3600 + "h" + String.format("%02d", s % 3600 / 60) + "m";
  }

  /** Ends the bar's line. */
  synchronized void finish() {
    if (enabled && lastDraw != 0) {
      out.println();
    }
  }
}
