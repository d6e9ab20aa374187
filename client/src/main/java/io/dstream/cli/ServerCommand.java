package io.dstream.cli;

import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "server", mixinStandardHelpOptions = true, description = "The broker itself: version, health, latency.",
    subcommands = {ServerCommand.Info.class, ServerCommand.Ping.class, ServerCommand.Check.class},
    footer = {"", "Examples:", "  dstream server info", "  dstream server ping --count 5", "  dstream server check"})
final class ServerCommand {

  /** Readiness components in the order they are printed. */
  private static final String[] COMPONENTS = {"store", "objectStorage", "checkpoints"};

  @Command(name = "info", mixinStandardHelpOptions = true,
      description = "Prints the broker's URL, version and readiness with each component's state (GET /health/ready).",
      footer = {"", "Example:", "  dstream server info --json"})
  static final class Info implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
      try (BrokerHttp broker = new BrokerHttp(common.clientOptions())) {
        JsonObject ready = broker.readiness();
        StringBuilder text = new StringBuilder("url:            " + broker.base()
            + "\nversion:        " + ready.getString("version")
            + "\nstatus:         " + ready.getString("status"));
        JsonObject components = ready.getJsonObject("components", new JsonObject());
        for (String name : COMPONENTS) {
          JsonObject component = components.getJsonObject(name, new JsonObject());
          text.append(String.format("%n%-16s%s", name + ":", component.getString("status")
              + (component.containsKey("reason") ? " (" + component.getString("reason") + ")" : "")));
        }
        JsonObject checkpoints = components.getJsonObject("checkpoints", new JsonObject());
        text.append("\nsubjects behind: ").append(checkpoints.getValue("subjectsBehind"))
            .append(" (oldest change ").append(checkpoints.getValue("lagSeconds")).append(" s)");
        common.print(System.out, ready.put("url", broker.base()), text.toString());
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "ping", mixinStandardHelpOptions = true,
      description = "Measures the round trip of GET /health, the broker's cheapest answer.",
      footer = {"", "Example:", "  dstream server ping --count 5"})
  static final class Ping implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Option(names = "--count", defaultValue = "3", description = "Round trips (default ${DEFAULT-VALUE}).")
    int count;

    @Override
    public Integer call() {
      if (count < 1 || count > 10_000) {
        throw new IllegalArgumentException("--count must be 1 to 10000");
      }
      try (BrokerHttp broker = new BrokerHttp(common.clientOptions())) {
        double min = Double.MAX_VALUE;
        double max = 0;
        double sum = 0;
        for (int i = 1; i <= count; i++) {
          double ms = broker.ping() / 1e6;
          min = Math.min(min, ms);
          max = Math.max(max, ms);
          sum += ms;
          common.print(System.out, new JsonObject().put("url", broker.base()).put("ping", i).put("ms", ms),
              String.format("pong from %s: %d time=%.2f ms", broker.base(), i, ms));
        }
        if (!common.json) {
          System.out.printf("min/avg/max = %.2f/%.2f/%.2f ms%n", min, sum / count, max);
        }
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "check", mixinStandardHelpOptions = true,
      description = {"Checks readiness: prints 'ok', or 'degraded:' / 'down:' with the reason, and exits 0 only",
          "when the broker and every component are ok (1 otherwise), for scripts and monitoring."},
      footer = {"", "Example:", "  dstream server check || echo 'needs a look'"})
  static final class Check implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Override
    public Integer call() {
      try (BrokerHttp broker = new BrokerHttp(common.clientOptions())) {
        JsonObject ready = broker.readiness();
        String status = ready.getString("status", "unknown");
        common.print(System.out, ready, status.equals("ok") ? "ok" : status + ": " + ready.getString("reason"));
        return status.equals("ok") ? ExitCode.OK : ExitCode.FAILED;
      }
    }
  }
}
