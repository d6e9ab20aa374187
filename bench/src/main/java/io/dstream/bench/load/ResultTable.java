package io.dstream.bench.load;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Collects the runs and prints one Markdown table: per scenario, metric and system the median, the
 * min–max, and the ratio of each of our systems that took part in the run to that system's median
 * (one column per system of ours). A 3-node cluster is compared with the other cluster only, and a
 * single server with single servers only. A row a system could not run says "n/a (why)".
 */
final class ResultTable {

  static final String OURS_ALWAYS = "ours-always";
  static final String OURS_OS = "ours-os";
  /** Our broker's NATS port, driven by the JetStream code; with DSTREAM_SYNC=always and os. */
  static final String OURS_NATS = "ours-nats";
  static final String OURS_NATS_OS = "ours-nats-os";
  /** Our broker's NATS port, driven by the core NATS code (plain subscriptions, request/reply). */
  static final String OURS_NATS_CORE = "ours-nats-core";
  /** Our 3-node R3 cluster on loopback (issue 17), through node 1's NATS port. */
  static final String OURS_CLUSTER = "ours-cluster";
  /** nats-server's 3-node R3 JetStream cluster on loopback, beside {@link #OURS_CLUSTER}. */
  static final String JETSTREAM_R3 = "jetstream-r3";
  /** Our systems, in the order of their ratio columns. */
  private static final List<String> OURS = List.of(OURS_ALWAYS, OURS_OS, OURS_NATS, OURS_NATS_OS, OURS_NATS_CORE,
      OURS_CLUSTER);
  /** The systems that run as a cluster of three nodes. */
  private static final Set<String> CLUSTERS = Set.of(OURS_CLUSTER, JETSTREAM_R3);
  /** What the table says under itself when a cluster took part. */
  private static final String CLUSTER_NOTE = "ours-cluster and jetstream-r3: three nodes on 127.0.0.1, every stream"
      + " replicated on all three (R3); the client connects to node 1 and each cluster places its partition or"
      + " stream leaders itself. Their server CPU is the sum over the three nodes, and for ours-cluster also"
      + " over the S3 server the nodes share (a single broker runs its S3 server in its own process).";

  private record Key(Scenario scenario, String metric, String system) {
  }

  /** The runs of one row, or why the system could not run it. */
  private static final class Row {
    final List<Double> runs = new ArrayList<>();
    boolean higherIsBetter;
    String notAvailable;
  }

  private final Map<Key, Row> rows = new LinkedHashMap<>();
  private final Map<Key, Integer> failures = new LinkedHashMap<>();

  void add(Measurement measurement) {
    Row row = rows.computeIfAbsent(new Key(measurement.scenario(), measurement.metric(), measurement.system()),
        k -> new Row());
    row.higherIsBetter = measurement.higherIsBetter();
    if (measurement.available()) {
      row.runs.add(measurement.value());
    } else {
      row.notAvailable = measurement.note();
    }
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
    List<String> columns = new ArrayList<>();
    for (String ours : OURS) {
      if (rows.entrySet().stream().anyMatch(row -> row.getKey().system().equals(ours) && !row.getValue().runs.isEmpty())) {
        columns.add(ours);
      }
    }
    StringBuilder out = new StringBuilder("| # | metric | system | runs | median | min–max |");
    StringBuilder rule = new StringBuilder("|---|---|---|---:|---:|---:|");
    for (String ours : columns) {
      out.append(' ').append(ours.replace('-', ' ')).append(" / this |");
      rule.append("---:|");
    }
    out.append('\n').append(rule).append('\n');
    rows.forEach((key, row) -> {
      out.append("| ").append(key.scenario().number)
          .append(" | ").append(key.metric()).append(row.higherIsBetter ? "" : " (lower is better)")
          .append(" | ").append(key.system())
          .append(" | ").append(row.runs.size());
      if (row.runs.isEmpty()) {
        out.append(" | n/a (").append(row.notAvailable).append(") | –");
      } else {
        out.append(" | ").append(format(median(row.runs)))
            .append(" | ").append(format(row.runs.stream().mapToDouble(d -> d).min().orElse(0))).append("–")
            .append(format(row.runs.stream().mapToDouble(d -> d).max().orElse(0)));
      }
      boolean ours = OURS.contains(key.system());
      boolean cluster = CLUSTERS.contains(key.system());
      for (String column : columns) {
        boolean comparable = !ours && !row.runs.isEmpty() && cluster == CLUSTERS.contains(column);
        out.append(" | ").append(comparable ? ratio(key, column) : "");
      }
      out.append(" |\n");
    });
    if (rows.keySet().stream().anyMatch(key -> CLUSTERS.contains(key.system()))) {
      out.append("\n").append(CLUSTER_NOTE).append("\n");
    }
    failures.forEach((key, count) -> out.append("\n").append(key.system()).append(" failed scenario ")
        .append(key.scenario().number).append(" ").append(count).append(" time(s); see the log above."));
    return out.toString();
  }

  private String ratio(Key theirs, String oursSystem) {
    Row ours = rows.get(new Key(theirs.scenario(), theirs.metric(), oursSystem));
    double their = median(rows.get(theirs).runs);
    if (ours == null || ours.runs.isEmpty() || their == 0) {
      return "";
    }
    return String.format(Locale.ROOT, "%.2f×", median(ours.runs) / their);
  }

  private static String format(double value) {
    return value >= 100 ? String.format(Locale.ROOT, "%,.0f", value) : String.format(Locale.ROOT, "%.1f", value);
  }
}
