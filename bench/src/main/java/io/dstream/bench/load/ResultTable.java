package io.dstream.bench.load;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Collects the runs and prints one Markdown table: per scenario, metric and system the median, the
 * min–max, and the ratio of ours (both sync modes) to that system's median.
 */
final class ResultTable {

  static final String OURS_ALWAYS = "ours-always";
  static final String OURS_OS = "ours-os";

  private record Key(Scenario scenario, String metric, String system) {
  }

  private final Map<Key, List<Double>> values = new LinkedHashMap<>();
  private final Map<Key, Boolean> higherIsBetter = new LinkedHashMap<>();
  private final Map<Key, Integer> failures = new LinkedHashMap<>();

  void add(Measurement measurement) {
    Key key = new Key(measurement.scenario(), measurement.metric(), measurement.system());
    values.computeIfAbsent(key, k -> new ArrayList<>()).add(measurement.value());
    higherIsBetter.put(key, measurement.higherIsBetter());
  }

  void failed(Scenario scenario, String system) {
    failures.merge(new Key(scenario, "", system), 1, Integer::sum);
  }

  static double median(List<Double> runs) {
    List<Double> sorted = new ArrayList<>(runs);
    sorted.sort(Comparator.naturalOrder());
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  String markdown() {
    StringBuilder out = new StringBuilder();
    out.append("| # | metric | system | runs | median | min–max | ours always / this | ours os / this |\n");
    out.append("|---|---|---|---:|---:|---:|---:|---:|\n");
    for (Map.Entry<Key, List<Double>> row : values.entrySet()) {
      Key key = row.getKey();
      List<Double> runs = row.getValue();
      boolean ours = key.system().startsWith("ours");
      out.append("| ").append(key.scenario().number)
          .append(" | ").append(key.metric()).append(higherIsBetter.get(key) ? "" : " (lower is better)")
          .append(" | ").append(key.system())
          .append(" | ").append(runs.size())
          .append(" | ").append(format(median(runs)))
          .append(" | ").append(format(runs.stream().mapToDouble(d -> d).min().orElse(0))).append("–")
          .append(format(runs.stream().mapToDouble(d -> d).max().orElse(0)))
          .append(" | ").append(ours ? "" : ratio(key, OURS_ALWAYS))
          .append(" | ").append(ours ? "" : ratio(key, OURS_OS))
          .append(" |\n");
    }
    failures.forEach((key, count) -> out.append("\n").append(key.system()).append(" failed scenario ")
        .append(key.scenario().number).append(" ").append(count).append(" time(s); see the log above."));
    return out.toString();
  }

  private String ratio(Key theirs, String oursSystem) {
    List<Double> ours = values.get(new Key(theirs.scenario(), theirs.metric(), oursSystem));
    double their = median(values.get(theirs));
    if (ours == null || their == 0) {
      return "";
    }
    return String.format(Locale.ROOT, "%.2f×", median(ours) / their);
  }

  private static String format(double value) {
    return value >= 100 ? String.format(Locale.ROOT, "%,.0f", value) : String.format(Locale.ROOT, "%.1f", value);
  }
}
