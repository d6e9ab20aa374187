package io.dstream.bench.load;

import java.io.PrintStream;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.IntFunction;

/**
 * Scenario 7, the HTTP views: each part runs against every system that has it before the next part,
 * and each repeat runs every part before the next repeat. Every part gets its own server CPU per
 * message. Streams and subjects are fresh per run (the catch-up read reads the JSON stream the
 * batched appends of the same repeat wrote).
 */
final class HttpScenario {

  /** The parts of scenario 7, in the table's order; the metric names are the table's rows. */
  private enum Part {
    RECORDS_PUBLISH("records POST ×100 msg/s"),
    RECORDS_LONG_POLL("records long-poll delivered msg/s"),
    DS_APPEND("DS append ×1 msg/s"),
    DS_APPEND_BATCH("DS append JSON ×100 msg/s"),
    DS_CATCH_UP("DS catch-up read JSON msg/s");

    final String metric;

    Part(String metric) {
      this.metric = metric;
    }

    /** The metric's name without its unit, for the CPU row of the part. */
    String label() {
      return metric.substring(0, metric.lastIndexOf(' '));
    }

    boolean ranOn(HttpTarget target) {
      return target.hasRecordsApi() || (this != RECORDS_PUBLISH && this != RECORDS_LONG_POLL);
    }
  }

  private final List<HttpTarget> targets;
  private final HttpCounts counts;
  private final long timeoutMs;
  private final Map<String, List<Long>> serverPids;
  private final long warmUpBoundMs;
  /** Per system, the JSON stream the batch part wrote last: the catch-up part reads it. */
  private final Map<String, String> lastBatchStream = new HashMap<>();
  private final IntFunction<String> runNames;
  private final PrintStream log;
  private final Consumer<Measurement> record;
  private final Consumer<String> failed;

  /**
   * {@code runNames}: a prefix of the names for one run of a part, given its repeat (0: a warm-up),
   * never the same twice; {@code failed} gets the system of a failed part.
   */
  HttpScenario(List<HttpTarget> targets, HttpCounts counts, long timeoutMs, Map<String, List<Long>> serverPids,
               long warmUpBoundMs, IntFunction<String> runNames, PrintStream log, Consumer<Measurement> record,
               Consumer<String> failed) {
    this.warmUpBoundMs = warmUpBoundMs;
    this.targets = targets;
    this.counts = counts;
    this.timeoutMs = timeoutMs;
    this.serverPids = serverPids;
    this.runNames = runNames;
    this.log = log;
    this.record = record;
    this.failed = failed;
  }

  void run(int repeats) {
    warmUp();
    for (int repeat = 1; repeat <= repeats; repeat++) {
      for (Part part : Part.values()) {
        for (HttpTarget target : targets) {
          if (part.ranOn(target)) {
            runOne(part, target, repeat);
          }
        }
      }
    }
  }

  /** Every part on every system, unrecorded, until the system's JIT settled ({@link WarmUp}). */
  private void warmUp() {
    for (HttpTarget target : targets) {
      for (Part part : Part.values()) {
        if (part.ranOn(target)) {
          WarmUp.untilJitSettles(part.metric + " on " + target.name(), pids(target), warmUpBoundMs, log,
              () -> measure(part, target, 0));
        }
      }
    }
  }

  private void runOne(Part part, HttpTarget target, int repeat) {
    ProcessCpu.Sample before = ProcessCpu.sample(pids(target));
    try {
      long messages = measure(part, target, repeat);
      ProcessCpu.perMessage(ProcessCpu.sample(pids(target)).since(before), messages, part.label() + " ",
          (metric, value) -> record(target, metric, value, false));
    } catch (Exception e) {
      log.println("scenario 7 (" + part.metric + ") on " + target.name() + " (run " + repeat + ") failed: " + e);
      failed.accept(target.name());
    }
  }

  /** The server processes of {@code target}, for its CPU (none known: empty). */
  private List<Long> pids(HttpTarget target) {
    return serverPids.getOrDefault(target.name(), List.of());
  }

  /** Runs one part once and records its numbers (repeat 0: the warm-up, not recorded); returns the messages. */
  private long measure(Part part, HttpTarget target, int repeat) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    HttpLoad http = target.http();
    String name = runNames.apply(repeat) + "." + target.name();
    switch (part) {
      case RECORDS_PUBLISH -> {
        double rate = http.recordsPublish(name + ".records", counts.records(), counts.perPost(),
            counts.postsInFlight(), deadline);
        recordRun(repeat, target, part.metric, rate, true);
        return counts.records();
      }
      case RECORDS_LONG_POLL -> {
        HttpLoad.LongPoll result = http.recordsLongPoll(name + ".longpoll", counts.records(), counts.perPost(),
            counts.postsInFlight(), deadline);
        recordRun(repeat, target, part.metric, result.deliveredPerSecond(), true);
        recordRun(repeat, target, "records long-poll p99 publish→read µs", result.p99Micros(), false);
        return counts.records();
      }
      case DS_APPEND -> {
        double rate = http.dsAppend(name + ".single", counts.appends(), 1, counts.appendsInFlight(), deadline);
        recordRun(repeat, target, part.metric, rate, true);
        return counts.appends();
      }
      case DS_APPEND_BATCH -> {
        lastBatchStream.put(target.name(), name + ".batch");
        double rate = http.dsAppend(name + ".batch", counts.records(), counts.perPost(), counts.postsInFlight(),
            deadline);
        recordRun(repeat, target, part.metric, rate, true);
        return counts.records();
      }
      case DS_CATCH_UP -> {
        double rate = http.dsCatchUp(lastBatchStream.get(target.name()), counts.records(), counts.readPasses(), deadline);
        recordRun(repeat, target, part.metric, rate, true);
        return (long) counts.records() * counts.readPasses();
      }
      default -> throw new IllegalArgumentException(part.name());
    }
  }

  private void recordRun(int repeat, HttpTarget target, String metric, double value, boolean higherIsBetter) {
    if (repeat > 0) {
      record(target, metric, value, higherIsBetter);
    }
  }

  private void record(HttpTarget target, String metric, double value, boolean higherIsBetter) {
    record.accept(new Measurement(Scenario.HTTP, target.name(), metric, value, higherIsBetter));
  }
}
