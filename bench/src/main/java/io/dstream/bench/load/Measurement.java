package io.dstream.bench.load;

/** One number of one run of one scenario against one system. */
record Measurement(Scenario scenario, String system, String metric, double value, boolean higherIsBetter) {

  /** A line that a script can grep: {@code RESULT <scenario> <system> <metric> <value>}. */
  String line() {
    return "RESULT\t" + scenario.number + "\t" + system + "\t" + metric + "\t" + String.format(java.util.Locale.ROOT, "%.1f", value);
  }
}
