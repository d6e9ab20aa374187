package io.dstream.cli;

import io.dstream.client.StreamException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "server", mixinStandardHelpOptions = true,
    description = "The broker itself: version, health, latency, its cluster.",
    subcommands = {ServerCommand.Info.class, ServerCommand.Ping.class, ServerCommand.Check.class,
        ServerCommand.Cluster.class},
    footer = {"", "Examples:", "  dstream server info", "  dstream server ping --count 5", "  dstream server check",
        "  dstream server cluster"})
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

  @Command(name = "cluster", mixinStandardHelpOptions = true,
      description = {"Cluster mode as the node asked sees it (GET /admin/cluster): the members it hears from and each",
          "partition's leader, term, this node's role, applied index and voters; with a SUBJECT, where that subject",
          "is placed. On a single node it says so."},
      footer = {"", "Examples:", "  dstream server cluster", "  dstream server cluster orders.eu.1 --json"})
  static final class Cluster implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(arity = "0..1", paramLabel = "SUBJECT",
        description = "A subject whose partition, leader and replicas to show.")
    String subject;

    @Override
    public Integer call() {
      try (BrokerHttp broker = new BrokerHttp(common.clientOptions())) {
        if (subject != null) {
          JsonObject placed = broker.placement(subject);
          common.print(System.out, placed, String.format(
              "subject:    %s%npartition:  %d%nleader:     %s%nreplicas:   %s", placed.getString("subject"),
              placed.getInteger("partition"), leader(placed.getString("leader")), names(placed.getJsonArray("peers"))));
        } else {
          JsonObject cluster = broker.cluster();
          common.print(System.out, cluster, table(cluster));
        }
        return ExitCode.OK;
      } catch (StreamException e) {
        if (!e.code().equals("not_found")) {
          throw e;
        }
        common.print(System.out, new JsonObject().put("cluster", false),
            "single node: not in cluster mode (docs/cluster.md)");
        return ExitCode.OK;
      }
    }

    private static String table(JsonObject cluster) {
      JsonArray partitions = cluster.getJsonArray("partition_list");
      String node = cluster.getString("node");
      int ledHere = 0;
      int leaderless = 0;
      StringBuilder rows = new StringBuilder(String.format("%-10s %-16s %-6s %-10s %-10s %s",
          "PARTITION", "LEADER", "TERM", "ROLE", "APPLIED", "VOTERS"));
      for (int i = 0; i < partitions.size(); i++) {
        JsonObject partition = partitions.getJsonObject(i);
        String leader = partition.getString("leader");
        ledHere += node.equals(leader) ? 1 : 0;
        leaderless += leader == null ? 1 : 0;
        rows.append(String.format("%n%-10d %-16s %-6d %-10s %-10d %s", partition.getInteger("partition"),
            leader(leader), partition.getLong("term"), partition.getString("role"), partition.getLong("applied"),
            names(partition.getJsonArray("voters"))));
      }
      return String.format("node:        %s%nmembers:     %s%npartitions:  %d, %d led here, %d without a leader%n%s",
          node, names(cluster.getJsonArray("members")), partitions.size(), ledHere, leaderless, rows);
    }

    private static String leader(String leader) {
      return leader == null ? "(none)" : leader;
    }

    private static String names(JsonArray ids) {
      return ids.isEmpty() ? "-" : String.join(",", ids.stream().map(String::valueOf).toList());
    }
  }
}
