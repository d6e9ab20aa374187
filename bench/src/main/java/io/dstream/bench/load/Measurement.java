package io.dstream.bench.load;

/** One number of one run of one scenario against one system. */
record Measurement(Scenario scenario, String system, String metric, double value, boolean higherIsBetter) {

  /**
   * Reads a {@link #line()} back; null for any other line. Latency and CPU metrics (in µs) and memory
   * metrics (MiB, bytes) are lower-is-better.
   */
  static Measurement parse(String line) {
    String[] fields = line.split("\t");
    if (fields.length != 5 || !fields[0].equals("RESULT")) {
      return null;
    }
    int number = Integer.parseInt(fields[1]);
    for (Scenario scenario : Scenario.values()) {
      if (scenario.number == number) {
        return new Measurement(scenario, fields[2], fields[3], Double.parseDouble(fields[4]), !lowerIsBetter(fields[3]));
      }
    }
    return null;
  }

  private static boolean lowerIsBetter(String metric) {
    return metric.contains("µs") || metric.contains("MiB") || metric.contains("bytes");
  }

  /** A line that a script can grep: {@code RESULT <scenario> <system> <metric> <value>}. */
  String line() {
    return "RESULT\t" + scenario.number + "\t" + system + "\t" + metric + "\t" + String.format(java.util.Locale.ROOT, "%.1f", value);
  }
}
