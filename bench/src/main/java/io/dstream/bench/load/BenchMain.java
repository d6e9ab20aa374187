package io.dstream.bench.load;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

import static io.dstream.bench.load.JetStreamTarget.Streams.DECLARED;
import static io.dstream.bench.load.JetStreamTarget.Streams.SUBJECT_IS_STREAM;
import static io.dstream.bench.load.JetStreamTarget.Streams.SUBJECT_IS_STREAM_UNDECLARED;

/** {@code java -jar bench/target/bench.jar}: the load generators behind bench/run.sh. */
@Command(name = "bench", mixinStandardHelpOptions = true,
    description = "Load generators: our broker vs NATS JetStream, core NATS, Redis Streams and the Durable Streams "
        + "reference server (issue 6); our 3-node cluster vs a 3-node JetStream cluster (issue 17).",
    subcommands = {BenchMain.MatrixCommand.class, BenchMain.IdleCommand.class, BenchMain.SocketsCommand.class,
        BenchMain.TableCommand.class,
        BenchMain.FreePortsCommand.class})
public final class BenchMain {

  private BenchMain() {
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchMain()).execute(args));
  }

  @Command(name = "matrix", mixinStandardHelpOptions = true,
      description = "Runs scenarios 1-5, 7, 9 and 10 against every given system, interleaved, and prints the table.")
  static final class MatrixCommand implements Callable<Integer> {

    @Option(names = "--ours-always", description = "host:port of our broker with DSTREAM_SYNC=always")
    String oursAlways;
    @Option(names = "--ours-os", description = "host:port of our broker with DSTREAM_SYNC=os")
    String oursOs;
    @Option(names = "--ours-nats", description = "nats://host:port, the NATS port of our broker with DSTREAM_SYNC=always"
        + " (systems ours-nats and ours-nats-core)")
    String oursNats;
    @Option(names = "--ours-nats-os", description = "nats://host:port, the NATS port of our broker with DSTREAM_SYNC=os"
        + " (system ours-nats-os)")
    String oursNatsOs;
    @Option(names = "--api-key", description = "API key of our brokers (the CONNECT token on their NATS ports)",
        defaultValue = "bench")
    String apiKey;
    @Option(names = "--nats", description = "nats://host:port of a nats-server with JetStream")
    String nats;
    @Option(names = "--ours-cluster", description = "nats://host:port, the NATS port of node 1 of our 3-node R3 cluster"
        + " (system ours-cluster: scenarios 1 and 2)")
    String oursCluster;
    @Option(names = "--ours-cluster-admin", split = ",", description = "http://host:port of each node of our cluster,"
        + " node 1 first: their admin API names the node leading each run's subject and how far each node applied it")
    List<URI> oursClusterAdmin;
    @Option(names = "--jetstream-r3", description = "nats://host:port of node 1 of a 3-node JetStream cluster"
        + " (system jetstream-r3, streams of 3 replicas: scenarios 1 and 2)")
    String jetStreamR3;
    @Option(names = "--redis", description = "host:port of a redis-server")
    String redis;
    @Option(names = "--ds-reference", description = "host:port of the npm Durable Streams reference server (7)")
    String dsReference;
    @Option(names = "--quick", description = "tiny counts: proves the harness works, numbers mean nothing")
    boolean quick;
    @Option(names = "--repeats", defaultValue = "3")
    int repeats;
    @Option(names = "--scenarios", split = ",", defaultValue = "1,2,3,4,5,7,9,10")
    List<Integer> scenarios;
    @Option(names = "--systems", split = ",", description = "only these of the given systems (e.g. ours-nats,jetstream"
        + " for a profile of one); default: all")
    List<String> systems;
    @Option(names = "--warm-up-s", description = "bound of one scenario's warm-up on one system (WarmUp)",
        defaultValue = "60")
    int warmUpSeconds;
    @Option(names = "--timeout-s", description = "bound of one scenario run against one system", defaultValue = "180")
    long timeoutSeconds;
    @Option(names = "--table", description = "also write the Markdown table to this file")
    Path tableFile;
    @Option(names = "--pid", description = "SYSTEM=PID[,PID...] of a server's processes (a cluster's nodes), for its"
        + " CPU per message, their sum (Linux)")
    Map<String, String> serverPids = new HashMap<>();

    @Override
    public Integer call() throws Exception {
      long timeoutMs = timeoutSeconds * 1000;
      List<Target> targets = new ArrayList<>();
      try {
        if (oursAlways != null) {
          targets.add(new OursTarget(ResultTable.OURS_ALWAYS, oursAlways, apiKey, timeoutMs));
        }
        if (oursOs != null) {
          targets.add(new OursTarget(ResultTable.OURS_OS, oursOs, apiKey, timeoutMs));
        }
        if (oursNats != null) {
          NatsEndpoint endpoint = new NatsEndpoint(oursNats, apiKey);
          targets.add(new JetStreamTarget(ResultTable.OURS_NATS, endpoint, timeoutMs, SUBJECT_IS_STREAM, 1,
              JetStreamTarget.SCENARIOS, null));
          targets.add(new NatsCoreTarget(ResultTable.OURS_NATS_CORE, endpoint, timeoutMs));
        }
        if (oursNatsOs != null) {
          targets.add(new JetStreamTarget(ResultTable.OURS_NATS_OS, new NatsEndpoint(oursNatsOs, apiKey), timeoutMs,
              SUBJECT_IS_STREAM, 1, JetStreamTarget.SCENARIOS, null));
        }
        if (nats != null) {
          NatsEndpoint endpoint = new NatsEndpoint(nats, null);
          targets.add(new JetStreamTarget("jetstream", endpoint, timeoutMs, DECLARED, 1, JetStreamTarget.SCENARIOS, null));
          targets.add(new NatsCoreTarget("nats-core", endpoint, timeoutMs));
        }
        if (oursCluster != null) {
          // Replication is the cluster's own (DSTREAM_CLUSTER_REPLICAS), not a stream's setting.
          targets.add(new JetStreamTarget(ResultTable.OURS_CLUSTER, new NatsEndpoint(oursCluster, apiKey), timeoutMs,
              SUBJECT_IS_STREAM_UNDECLARED, 1, Scenario.CLUSTER_ROW,
              oursClusterAdmin == null ? null : new ClusterLeaders(oursClusterAdmin, apiKey)));
        }
        if (jetStreamR3 != null) {
          targets.add(new JetStreamTarget(ResultTable.JETSTREAM_R3, new NatsEndpoint(jetStreamR3, null), timeoutMs,
              DECLARED, 3, Scenario.CLUSTER_ROW, null));
        }
        if (redis != null) {
          targets.add(new RedisTarget(redis, timeoutMs));
        }
        if (dsReference != null) {
          targets.add(new DsReferenceTarget(dsReference));
        }
        if (systems != null) {
          targets.stream().filter(target -> !systems.contains(target.name())).forEach(Target::close);
          targets.removeIf(target -> !systems.contains(target.name()));
        }
        Set<Scenario> selected = EnumSet.noneOf(Scenario.class);
        for (Scenario scenario : Scenario.values()) {
          if (scenarios.contains(scenario.number) && scenario != Scenario.IDLE && scenario != Scenario.SOCKETS) {
            selected.add(scenario);
          }
        }
        PrintStream out = System.out;
        ResultTable table = new Matrix(targets, quick ? Counts.QUICK : Counts.FULL,
            quick ? HttpCounts.QUICK : HttpCounts.FULL, timeoutMs, repeats, selected, pids(serverPids),
            quick ? 0 : warmUpSeconds * 1000L, out).run();
        String markdown = table.markdown();
        if (tableFile != null) {
          Files.writeString(tableFile, markdown, StandardCharsets.UTF_8);
        } else {
          out.println();
          out.println(markdown);
        }
        return markdown.contains(" failed scenario ") ? 1 : 0;
      } finally {
        for (Target target : targets) {
          target.close();
        }
      }
    }
  }

  /** {@code --pid}'s values: {@code SYSTEM -> "PID[,PID...]"} as {@code SYSTEM -> [PID, ...]}. */
  private static Map<String, List<Long>> pids(Map<String, String> arguments) {
    Map<String, List<Long>> pids = new HashMap<>();
    arguments.forEach((system, list) -> {
      List<Long> parsed = new ArrayList<>();
      for (String pid : list.split(",")) {
        try {
          parsed.add(Long.parseLong(pid.trim()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("--pid " + system + "=" + list + ": '" + pid + "' is not a process id");
        }
      }
      pids.put(system, List.copyOf(parsed));
    });
    return pids;
  }

  @Command(name = "idle", mixinStandardHelpOptions = true,
      description = "Scenario 6: subjects with one message each held after hibernation (ours only).")
  static final class IdleCommand implements Callable<Integer> {

    @Option(names = "--ours", required = true, description = "host:port of our broker")
    String ours;
    @Option(names = "--api-key", defaultValue = "bench")
    String apiKey;
    @Option(names = "--subjects", defaultValue = "1000000")
    int subjects;
    @Option(names = "--concurrency", defaultValue = "64")
    int concurrency;
    @Option(names = "--broker-pid", description = "for the heap reading via jcmd", defaultValue = "0")
    long brokerPid;
    @Option(names = "--budget-s", description = "stop creating subjects after this long", defaultValue = "600")
    long budgetSeconds;
    @Option(names = "--timeout-s", defaultValue = "900")
    long timeoutSeconds;

    @Override
    public Integer call() throws Exception {
      try (OursTarget target = new OursTarget(ResultTable.OURS_ALWAYS, ours, apiKey, timeoutSeconds * 1000)) {
        new IdleSubjects(target, ours, apiKey, System.out).run(subjects, concurrency, brokerPid, budgetSeconds * 1000,
            timeoutSeconds * 1000);
      }
      return 0;
    }
  }

  @Command(name = "sockets", mixinStandardHelpOptions = true,
      description = "Idle subscribed WebSockets held by one broker, with its memory per socket (issue 7, ours only).")
  static final class SocketsCommand implements Callable<Integer> {

    @Option(names = "--ours", required = true, description = "host:port of our broker")
    String ours;
    @Option(names = "--api-key", defaultValue = "bench")
    String apiKey;
    @Option(names = "--sockets", defaultValue = "10000")
    int sockets;
    @Option(names = "--subjects", description = "the sockets are spread over this many subjects", defaultValue = "10")
    int subjects;
    @Option(names = "--concurrency", description = "sockets connecting at a time", defaultValue = "200")
    int concurrency;
    @Option(names = "--idle-ms", description = "how long the sockets sit idle; make it longer than the broker's"
        + " DSTREAM_WS_PING_INTERVAL_MS and DSTREAM_IDLE_CONNECTION_TIMEOUT_MS", defaultValue = "15000")
    long idleMs;
    @Option(names = "--broker-pid", description = "for the heap (jcmd) and RSS (/proc) readings", defaultValue = "0")
    long brokerPid;
    @Option(names = "--timeout-s", defaultValue = "600")
    long timeoutSeconds;

    @Override
    public Integer call() throws Exception {
      OursTarget target = new OursTarget(ResultTable.OURS_ALWAYS, ours, apiKey, timeoutSeconds * 1000);
      try {
        new IdleSockets(target, ours, apiKey, System.out).run(sockets, subjects, concurrency, idleMs, brokerPid,
            timeoutSeconds * 1000);
      } finally {
        target.close();
      }
      return 0;
    }
  }

  @Command(name = "table", mixinStandardHelpOptions = true,
      description = "Rebuilds the table from the RESULT lines of a saved run log.")
  static final class TableCommand implements Callable<Integer> {

    @CommandLine.Parameters(index = "0", description = "a log holding RESULT lines")
    Path log;

    @Override
    public Integer call() throws Exception {
      ResultTable table = new ResultTable();
      for (String line : Files.readAllLines(log, StandardCharsets.UTF_8)) {
        Measurement measurement = Measurement.parse(line);
        if (measurement != null) {
          table.add(measurement);
        }
      }
      System.out.println(table.markdown());
      return 0;
    }
  }

  @Command(name = "free-ports", description = "Prints N free TCP ports on 127.0.0.1, one per line.")
  static final class FreePortsCommand implements Callable<Integer> {

    @CommandLine.Parameters(index = "0", defaultValue = "1")
    int count;

    @Override
    public Integer call() throws Exception {
      List<ServerSocket> sockets = new ArrayList<>();
      try {
        for (int i = 0; i < count; i++) {
          ServerSocket socket = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
          sockets.add(socket);
          System.out.println(socket.getLocalPort());
        }
      } finally {
        for (ServerSocket socket : sockets) {
          socket.close();
        }
      }
      return 0;
    }
  }
}
