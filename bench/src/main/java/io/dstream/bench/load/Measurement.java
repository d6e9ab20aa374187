package io.dstream.bench.load;

import java.util.Locale;

/**
 * One number of one run of one scenario against one system, or the note that the system could not
 * run it ({@link #notAvailable}: {@code value} is NaN and {@code note} says why).
 */
record Measurement(Scenario scenario, String system, String metric, double value, boolean higherIsBetter,
                   String note) {

  Measurement(Scenario scenario, String system, String metric, double value, boolean higherIsBetter) {
    this(scenario, system, metric, value, higherIsBetter, null);
  }

  /** The system does not offer what the scenario needs; its row says "n/a ({@code reason})". */
  static Measurement notAvailable(Scenario scenario, String system, String metric, String reason) {
    return new Measurement(scenario, system, metric, Double.NaN, !lowerIsBetter(metric), reason);
  }

  boolean available() {
    return note == null;
  }

  /**
   * Reads a {@link #line()} back; null for any other line. Latency and CPU metrics (in µs) and memory
   * metrics (MiB, bytes) are lower-is-better.
   */
  static Measurement parse(String line) {
    String[] fields = line.split("\t");
    if (fields.length != 5 || !(fields[0].equals("RESULT") || fields[0].equals("NA"))) {
      return null;
    }
    int number = Integer.parseInt(fields[1]);
    for (Scenario scenario : Scenario.values()) {
      if (scenario.number == number) {
        return fields[0].equals("NA") ? notAvailable(scenario, fields[2], fields[3], fields[4])
            : new Measurement(scenario, fields[2], fields[3], Double.parseDouble(fields[4]), !lowerIsBetter(fields[3]));
      }
    }
    return null;
  }

  private static boolean lowerIsBetter(String metric) {
    return metric.contains("µs") || metric.contains("MiB") || metric.contains("bytes");
  }

  /**
   * A line that a script can grep: {@code RESULT <scenario> <system> <metric> <value>}, or
   * {@code NA <scenario> <system> <metric> <reason>} for a run the system could not do.
   */
  String line() {
    if (!available()) {
      return "NA\t" + scenario.number + "\t" + system + "\t" + metric + "\t" + note;
    }
    return "RESULT\t" + scenario.number + "\t" + system + "\t" + metric + "\t" + String.format(Locale.ROOT, "%.1f", value);
  }
}
