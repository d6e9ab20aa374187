package io.dstream.bench.load;

import org.HdrHistogram.Histogram;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Runs scenarios 1–5, 7, 9 and 10 against every target, interleaved: for each scenario, each repeat runs
 * every system once before the next repeat starts, so load from the rest of the machine spreads over
 * all of them. Every subject (stream, key) is fresh. A scenario that fails or times out for a system is
 * reported and the run goes on; one the system does not offer yet ({@link NotAvailableException}) is
 * shown as "n/a" and is not a failure.
 *
 * <p>Before its measured repeats, each scenario warms up on every system ({@link WarmUp}): at most
 * {@code warmUpBoundMs} each, until the server's JIT compiler settled. Where the bound passes first,
 * the row "server CPU µs/msg without JIT compiler" (the process's CPU minus its compiler threads')
 * is the steady-state cost, and the plain row includes the compilation still going on.
 */
final class Matrix {

  private final List<Target> targets;
  private final Counts counts;
  private final int repeats;
  private final Set<Scenario> scenarios;
  private final PrintStream log;
  private final Map<String, List<Long>> serverPids;
  private final long warmUpBoundMs;
  private int warmUpRuns;
  private final HttpCounts httpCounts;
  private final long timeoutMs;
  private final ResultTable table = new ResultTable();
  private final String runId = Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36);

  /**
   * {@code serverPids}: the server processes of each system (a cluster's: every node's), for CPU per
   * message (may be empty);
   * {@code warmUpBoundMs}: how long a scenario may warm up on one system (0: one run).
   */
  Matrix(List<Target> targets, Counts counts, HttpCounts httpCounts, long timeoutMs, int repeats,
         Set<Scenario> scenarios, Map<String, List<Long>> serverPids, long warmUpBoundMs, PrintStream log) {
    this.targets = targets;
    this.warmUpBoundMs = warmUpBoundMs;
    this.httpCounts = httpCounts;
    this.timeoutMs = timeoutMs;
    this.serverPids = serverPids;
    this.counts = counts;
    this.repeats = repeats;
    this.scenarios = scenarios;
    this.log = log;
  }

  ResultTable run() throws Exception {
    for (Scenario scenario : Scenario.values()) {
      if (!scenarios.contains(scenario)) {
        continue;
      }
      log.println("== scenario " + scenario.number + ": " + scenario.title);
      if (scenario == Scenario.HTTP) {
        runHttp();
        continue;
      }
      List<Target> preloaded = scenario == Scenario.REPLAY ? preload() : targets;
      warmUp(scenario, preloaded);
      for (int repeat = 1; repeat <= repeats; repeat++) {
        for (Target target : preloaded) {
          if (target.supports(scenario)) {
            runOne(scenario, target, repeat);
          }
        }
      }
    }
    return table;
  }

  /** Runs the scenario on every target as repeat 0, which is not recorded, until its JIT settled. */
  private void warmUp(Scenario scenario, List<Target> warming) {
    for (Target target : warming) {
      if (target.supports(scenario)) {
        WarmUp.untilJitSettles("scenario " + scenario.number + " on " + target.name(),
            pids(target.name()), warmUpBoundMs, log, () -> measure(scenario, target, 0));
      }
    }
  }

  private void runHttp() {
    List<HttpTarget> http = new ArrayList<>();
    for (Target target : targets) {
      if (target instanceof HttpTarget httpTarget && target.supports(Scenario.HTTP)) {
        http.add(httpTarget);
      }
    }
    new HttpScenario(http, httpCounts, timeoutMs, serverPids, warmUpBoundMs,
        repeat -> "bench." + runId + ".http." + runLabel(repeat), log, this::add,
        system -> table.failed(Scenario.HTTP, system)).run(repeats);
  }

  /** Stores the replay messages once per system (not measured); the replays read them repeatedly. */
  private List<Target> preload() {
    List<Target> ready = new ArrayList<>();
    for (Target target : targets) {
      if (!target.supports(Scenario.REPLAY)) {
        continue;
      }
      try {
        double rate = target.publish(replaySubject(target), counts.replay(), counts.window());
        log.printf("preloaded %,d messages into %s at %,.0f msg/s%n", counts.replay(), target.name(), rate);
        ready.add(target);
      } catch (Exception e) {
        log.println("preload of " + target.name() + " failed: " + e);
        table.failed(Scenario.REPLAY, target.name());
      }
    }
    return ready;
  }

  private String subject(String what, int repeat, Target target) {
    return "bench." + runId + "." + what + "." + runLabel(repeat) + "." + target.name();
  }

  /**
   * The repeat, or a fresh label for each warm-up run: a warm-up that reused a subject would publish
   * onto the last one's messages (its subscribers would receive those too), and one that reused a
   * Durable Streams stream would find it created (200, not 201).
   */
  private String runLabel(int repeat) {
    return repeat > 0 ? String.valueOf(repeat) : "w" + ++warmUpRuns;
  }

  /** The subject preloaded once and replayed by every run of scenario 3. */
  private String replaySubject(Target target) {
    return "bench." + runId + ".replay." + target.name();
  }

  private void runOne(Scenario scenario, Target target, int repeat) {
    String system = target.name();
    ProcessCpu.Sample before = ProcessCpu.sample(pids(system));
    try {
      long messages = measure(scenario, target, repeat);
      ProcessCpu.perMessage(ProcessCpu.sample(pids(system)).since(before), messages, "",
          (metric, value) -> record(repeat, scenario, system, metric, value, false));
    } catch (NotAvailableException e) {
      log.println("scenario " + scenario.number + " on " + system + " (run " + repeat + ") not available: "
          + e.getMessage());
      add(Measurement.notAvailable(scenario, system, headline(scenario), e.reason()));
    } catch (Exception e) {
      log.println("scenario " + scenario.number + " on " + system + " (run " + repeat + ") failed: " + e);
      table.failed(scenario, system);
    }
  }

  /** The server processes of {@code system}, for its CPU (none known: empty). */
  private List<Long> pids(String system) {
    return serverPids.getOrDefault(system, List.of());
  }

  /**
   * Runs one scenario once and records its numbers (repeat 0: the warm-up, not recorded); returns
   * the messages the server handled.
   */
  private long measure(Scenario scenario, Target target, int repeat) throws Exception {
    String system = target.name();
    switch (scenario) {
      case PUBLISH -> {
        String subject = subject("publish", repeat, target);
        record(repeat, scenario, system, "msg/s", target.publish(subject, counts.publish(), counts.window()), true);
        logLeader(repeat, scenario, target, subject);
        return counts.publish();
      }
      case SYNC -> {
        String subject = subject("sync", repeat, target);
        recordRoundTrips(repeat, scenario, system, target.syncPublish(subject, counts.sync()));
        logLeader(repeat, scenario, target, subject);
        return counts.sync();
      }
      case REQUEST -> {
        // Under svc.: one of our broker's default ephemeral patterns, so the request reaches the service.
        recordRoundTrips(repeat, scenario, system,
            target.requestReply("svc." + subject("request", repeat, target), counts.requests()));
        return counts.requests();
      }
      case REPLAY -> {
        record(repeat, scenario, system, "msg/s", target.replay(replaySubject(target), counts.replay()), true);
        return counts.replay();
      }
      case FANOUT -> {
        FanOutResult result = target.fanOut(subject("fanout", repeat, target), counts.fanOut(), counts.subscribers(),
            counts.window());
        record(repeat, scenario, system, "delivered msg/s", result.deliveredPerSecond(), true);
        record(repeat, scenario, system, "p99 publish→delivery µs", result.p99Micros(), false);
        if (result.delivered() != result.expected()) {
          log.printf("%s delivered %,d of %,d messages in scenario 4 (%s)%n", system, result.delivered(),
              result.expected(), result.delivered() > result.expected() ? "redeliveries" : "slow-consumer drops");
        }
        return result.delivered();
      }
      case WORK_QUEUE -> {
        WorkQueueResult result = target.workQueue(subject("workqueue", repeat, target), counts.workQueue(),
            counts.workers(), counts.window());
        record(repeat, scenario, system, "consumed msg/s", result.consumedPerSecond(), true);
        record(repeat, scenario, system, "p50 publish→consume µs", result.p50Micros(), false);
        record(repeat, scenario, system, "p99 publish→consume µs", result.p99Micros(), false);
        log.printf("%s deliveries per worker in scenario 10: %s%n", system, result.sharing());
        if (result.deliveries() > result.messages()) {
          log.printf("%s delivered %,d of %,d messages more than once in scenario 10 (%,d deliveries)%n", system,
              result.deliveries() - result.messages(), result.messages(), result.deliveries());
        }
        return result.messages();
      }
      case SUBJECTS -> {
        double rate = target.manySubjects(subject("many", repeat, target), counts.subjects(), counts.publishers(),
            counts.subjectMessages(), counts.window());
        record(repeat, scenario, system, "msg/s", rate, true);
        return counts.subjectMessages();
      }
      default -> throw new IllegalArgumentException(scenario.name());
    }
  }

  /** A cluster's measured runs: which node led the run's stream, which decides much of its numbers. */
  private void logLeader(int repeat, Scenario scenario, Target target, String subject) {
    if (repeat == 0) {
      return;
    }
    String leader;
    try {
      leader = target.leaderOf(subject);
    } catch (Exception e) {
      // Only a note beside the run: its numbers stand without it.
      leader = "an unknown node (" + e + ")";
    }
    if (leader != null) {
      log.printf("scenario %d on %s (run %d): its stream was led by %s%n", scenario.number, target.name(), repeat,
          leader);
    }
  }

  private void recordRoundTrips(int repeat, Scenario scenario, String system, Histogram roundTrips) {
    record(repeat, scenario, system, "p50 µs", Rates.micros(roundTrips, 50), false);
    record(repeat, scenario, system, "p99 µs", Rates.micros(roundTrips, 99), false);
    record(repeat, scenario, system, "p99.9 µs", Rates.micros(roundTrips, 99.9), false);
  }

  /** The metric that carries a scenario's "n/a" row. */
  private static String headline(Scenario scenario) {
    return switch (scenario) {
      case SYNC, REQUEST -> "p50 µs";
      case FANOUT -> "delivered msg/s";
      case WORK_QUEUE -> "consumed msg/s";
      default -> "msg/s";
    };
  }

  private void record(int repeat, Scenario scenario, String system, String metric, double value,
                      boolean higherIsBetter) {
    if (repeat > 0) {
      add(new Measurement(scenario, system, metric, value, higherIsBetter));
    }
  }

  private void add(Measurement measurement) {
    log.println(measurement.line());
    table.add(measurement);
  }
}
