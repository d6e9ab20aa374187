package io.dstream.broker;

import io.dstream.broker.archive.MinioObjectStore;
import io.dstream.broker.s3.TestS3;
import io.minio.MinioClient;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A cluster of brokers, each a child JVM ({@link BrokerProcess}: {@code -Xmx256m -XX:+UseSerialGC},
 * the test classpath) on 127.0.0.1, configured through the {@code DSTREAM_CLUSTER_*} settings of
 * docs/cluster.md, with one S3 server shared by all ({@link TestS3}, in this JVM). Every port (HTTP,
 * NATS, Hazelcast, Raft of each node) is chosen once, up front, so a node restarted after a kill,
 * a stop or a wipe comes back where its peers expect it, on its own data dir.
 *
 * <p>Nodes are named {@code n1..nN}. A node is <em>running</em> between a start and a kill or stop,
 * and <em>live</em> while running and not {@link #sigstop stopped by SIGSTOP}. Closing the cluster
 * (or the end of the test JVM, through a shutdown hook) kills every child by its pid. Thread-safe.
 */
public final class ClusterProcesses implements AutoCloseable {

  public static final String API_KEY = "cluster-key";
  public static final String BUCKET = "cluster-bucket";
  private static final List<String> JVM_OPTIONS = List.of("-Xmx256m", "-XX:+UseSerialGC");
  private static final Duration READY_TIMEOUT = Duration.ofSeconds(120);
  private static final Duration HTTP_TIMEOUT = Duration.ofSeconds(5);
  private static final Duration LEADER_TIMEOUT = Duration.ofSeconds(30);

  private final Map<String, Node> nodes = new LinkedHashMap<>();
  private final TestS3 s3;
  private final Map<String, String> environment;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(HTTP_TIMEOUT).build();
  private final Thread killOnExit = new Thread(this::killAll, "cluster-kill-on-exit");
  private final Path logDir = Path.of("target", "cluster-logs", Long.toString(System.currentTimeMillis()));

  /** One broker of the cluster: its fixed ports and data dir, and its current process if any. */
  private static final class Node {
    final String id;
    final int httpPort;
    final int natsPort;
    final int hazelcastPort;
    final int raftPort;
    final Path dataDir;
    BrokerProcess process;
    boolean paused;
    int incarnation;

    Node(String id, int[] ports, Path dataDir) {
      this.id = id;
      this.httpPort = ports[0];
      this.natsPort = ports[1];
      this.hazelcastPort = ports[2];
      this.raftPort = ports[3];
      this.dataDir = dataDir;
    }

    boolean running() {
      return process != null && process.isAlive();
    }
  }

  /** The work of one node, run on the nodes in parallel by {@link #inParallel}. */
  @FunctionalInterface
  private interface NodeAction {
    void run(String node) throws Exception;
  }

  private ClusterProcesses(TestS3 s3, Map<String, String> environment) {
    this.s3 = s3;
    this.environment = environment;
  }

  /**
   * Starts {@code count} nodes at once under {@code baseDir} (data dirs {@code baseDir/n1..}, the
   * bucket under {@code baseDir/s3}) and waits until each logged {@code listening on} and
   * {@code cluster: node <id> ready}. {@code settings} adds or overrides environment variables of
   * every node (e.g. {@code DSTREAM_CLUSTER_SNAPSHOT_ENTRIES}).
   */
  public static ClusterProcesses start(Path baseDir, int count, Map<String, String> settings) throws Exception {
    TestS3 s3 = TestS3.start(baseDir.resolve("s3"));
    ClusterProcesses cluster = new ClusterProcesses(s3, new HashMap<>(settings));
    Runtime.getRuntime().addShutdownHook(cluster.killOnExit);
    try {
      int[][] ports = freePorts(count, 4);
      List<String> peers = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String id = "n" + (i + 1);
        Node node = new Node(id, ports[i], baseDir.resolve(id));
        cluster.nodes.put(id, node);
        peers.add(id + "=127.0.0.1:" + node.hazelcastPort + ":" + node.raftPort);
      }
      cluster.environment.putIfAbsent("DSTREAM_CLUSTER_PEERS", String.join(",", peers));
      cluster.environment.putIfAbsent("DSTREAM_CLUSTER_REPLICAS", "3");
      cluster.environment.put("DSTREAM_S3_ENDPOINT", s3.endpoint());
      cluster.environment.put("DSTREAM_S3_ACCESS_KEY", TestS3.ACCESS_KEY);
      cluster.environment.put("DSTREAM_S3_SECRET_KEY", TestS3.SECRET_KEY);
      cluster.environment.put("DSTREAM_S3_BUCKET", BUCKET);
      cluster.startAllStopped();
      return cluster;
    } catch (Exception | Error e) {
      System.out.println("the cluster did not start:\n" + cluster.describe(50));
      cluster.close();
      throw e;
    }
  }

  /**
   * {@code count} sets of {@code perSet} distinct free ports, all held open while chosen. Below the
   * kernel's ephemeral range (32768 and up by default): a restarted node binds its ports again, and
   * a port from that range could meanwhile be the local end of some outgoing connection (seen once:
   * "port ... is in use").
   */
  private static int[][] freePorts(int count, int perSet) throws IOException {
    List<ServerSocket> held = new ArrayList<>();
    try {
      int[][] ports = new int[count][perSet];
      for (int i = 0; i < count; i++) {
        for (int j = 0; j < perSet; j++) {
          ServerSocket socket = null;
          for (int attempt = 0; socket == null; attempt++) {
            if (attempt == 1000) {
              throw new IOException("no free port in 20000-32767 after 1000 tries");
            }
            try {
              socket = new ServerSocket(20_000 + ThreadLocalRandom.current().nextInt(12_768));
            } catch (IOException taken) {
              // another one
            }
          }
          held.add(socket);
          ports[i][j] = socket.getLocalPort();
        }
      }
      return ports;
    } finally {
      for (ServerSocket socket : held) {
        socket.close();
      }
    }
  }

  public List<String> nodeIds() {
    return List.copyOf(nodes.keySet());
  }

  /** The other nodes than {@code excluded}, in id order. */
  public List<String> otherThan(String... excluded) {
    List<String> others = new ArrayList<>(nodes.keySet());
    others.removeAll(List.of(excluded));
    return others;
  }

  private Node node(String id) {
    Node node = nodes.get(id);
    if (node == null) {
      throw new IllegalArgumentException("no node " + id + " in " + nodes.keySet());
    }
    return node;
  }

  public synchronized boolean isRunning(String node) {
    return node(node).running();
  }

  /** Running and not stopped by SIGSTOP: it answers. */
  public synchronized boolean isLive(String node) {
    Node n = node(node);
    return n.running() && !n.paused;
  }

  public List<String> liveNodes() {
    return nodes.keySet().stream().filter(this::isLive).collect(Collectors.toList());
  }

  public int httpPort(String node) {
    return node(node).httpPort;
  }

  public int natsPort(String node) {
    return node(node).natsPort;
  }

  public int raftPort(String node) {
    return node(node).raftPort;
  }

  public String natsUrl(String node) {
    return "nats://127.0.0.1:" + natsPort(node);
  }

  /** Starts every node that is not running, in parallel, and waits until each is ready. */
  public void startAllStopped() throws Exception {
    List<String> stopped = nodes.keySet().stream().filter(id -> !isRunning(id)).collect(Collectors.toList());
    inParallel(stopped, this::restart);
  }

  /**
   * Makes every node running and live again (SIGCONT to the paused, a start for the stopped), as
   * a test expects to find the cluster.
   */
  public void ensureAllLive() throws Exception {
    for (String id : nodes.keySet()) {
      if (isRunning(id) && !isLive(id)) {
        sigcont(id);
      }
    }
    startAllStopped();
  }

  /** Starts the node again, with its ports and data dir, and waits for {@code cluster: node <id> ready}. */
  public void restart(String id) throws Exception {
    restartUntil(id, "cluster: node " + id + " ready");
  }

  /** Starts the node again, with its ports and data dir, and waits for a log line containing {@code line}. */
  public void restartUntil(String id, String line) throws Exception {
    Node node = node(id);
    synchronized (this) {
      if (node.running()) {
        throw new IllegalStateException(id + " is running (pid " + node.process.pid() + ")");
      }
    }
    Files.createDirectories(node.dataDir);
    Map<String, String> env = new HashMap<>(environment);
    env.put("DSTREAM_CLUSTER_NODE_ID", id);
    BrokerProcess process = BrokerProcess.start(JVM_OPTIONS, env, node.dataDir, API_KEY, node.httpPort,
        "--nats-port", Integer.toString(node.natsPort));
    synchronized (this) {
      keepLog(node);
      node.process = process;
      node.paused = false;
      node.incarnation++;
    }
    process.awaitLine(Pattern.compile(line, Pattern.LITERAL), READY_TIMEOUT);
  }

  /** SIGKILL of the node's JVM; returns once it is gone. */
  public void kill9(String id) throws InterruptedException {
    BrokerProcess process = current(id);
    process.kill();
    if (process.isAlive()) {
      throw new IllegalStateException(id + " (pid " + process.pid() + ") survived SIGKILL for 30 s");
    }
  }

  /** SIGTERM (a clean shutdown) and waits up to 60 s for the exit, then SIGKILL. */
  public void stop(String id) throws InterruptedException {
    BrokerProcess process = current(id);
    synchronized (this) {
      if (node(id).paused) {
        throw new IllegalStateException(id + " is stopped by SIGSTOP: SIGCONT it first");
      }
    }
    process.terminate(60);
  }

  /** SIGTERM to every running node at once, each waited for. */
  public void stopAll() throws Exception {
    inParallel(nodes.keySet().stream().filter(this::isRunning).collect(Collectors.toList()), this::stop);
  }

  /** Deletes the data dir of a node that is not running (its H2 store, its Raft log and snapshots). */
  public void wipe(String id) throws IOException {
    Node node = node(id);
    synchronized (this) {
      if (node.running()) {
        throw new IllegalStateException("wipe of " + id + " while it runs");
      }
    }
    if (Files.exists(node.dataDir)) {
      try (Stream<Path> paths = Files.walk(node.dataDir)) {
        for (Path path : paths.sorted(Comparator.reverseOrder()).collect(Collectors.toList())) {
          Files.delete(path);
        }
      }
    }
  }

  /** {@code kill -STOP}: the JVM freezes with its sockets open, as behind a network partition. */
  public void sigstop(String id) throws Exception {
    signal(id, "-STOP");
    synchronized (this) {
      node(id).paused = true;
    }
  }

  /** {@code kill -CONT}: the frozen JVM goes on where it was. */
  public void sigcont(String id) throws Exception {
    signal(id, "-CONT");
    synchronized (this) {
      node(id).paused = false;
    }
  }

  private void signal(String id, String signal) throws Exception {
    long pid = current(id).pid();
    Process kill = new ProcessBuilder("kill", signal, Long.toString(pid)).redirectErrorStream(true).start();
    String said = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (kill.waitFor() != 0) {
      throw new IOException("kill " + signal + " " + pid + " failed: " + said);
    }
  }

  private synchronized BrokerProcess current(String id) {
    Node node = node(id);
    if (!node.running()) {
      throw new IllegalStateException(id + " is not running");
    }
    return node.process;
  }

  /**
   * {@code GET path} on the node's HTTP port with the API key, as JSON.
   * @throws IOException on a status other than 200 (with the body), or when the node did not answer in 5 s
   */
  public JsonObject adminGet(String node, String path) throws IOException, InterruptedException {
    HttpResponse<String> response = get(node, path);
    if (response.statusCode() != 200) {
      throw new IOException("GET " + path + " on " + node + ": " + response.statusCode() + " " + response.body());
    }
    return new JsonObject(response.body());
  }

  /** {@code GET path} on the node's HTTP port with the API key, whatever the status. */
  public HttpResponse<String> get(String node, String path) throws IOException, InterruptedException {
    return send(node, HttpRequest.newBuilder(uri(node, path)).GET());
  }

  /** {@code POST path} with a JSON body on the node's HTTP port with the API key, whatever the status. */
  public HttpResponse<String> post(String node, String path, String json) throws IOException, InterruptedException {
    return send(node, HttpRequest.newBuilder(uri(node, path)).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** {@code PUT path} with a JSON body on the node's HTTP port with the API key, whatever the status. */
  public HttpResponse<String> put(String node, String path, String json) throws IOException, InterruptedException {
    return send(node, HttpRequest.newBuilder(uri(node, path)).header("Content-Type", "application/json")
        .PUT(HttpRequest.BodyPublishers.ofString(json)));
  }

  /** {@code DELETE path} on the node's HTTP port with the API key, whatever the status. */
  public HttpResponse<String> delete(String node, String path) throws IOException, InterruptedException {
    return send(node, HttpRequest.newBuilder(uri(node, path)).DELETE());
  }

  private URI uri(String node, String path) {
    return URI.create("http://127.0.0.1:" + httpPort(node) + path);
  }

  private HttpResponse<String> send(String node, HttpRequest.Builder request) throws IOException, InterruptedException {
    return http.send(request.header("Authorization", "Bearer " + API_KEY).timeout(HTTP_TIMEOUT).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** {@code s} as one path segment. */
  public static String segment(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  /** {@code GET /admin/cluster/subject/{subject}} on the node. */
  public JsonObject placement(String node, String subject) throws IOException, InterruptedException {
    return adminGet(node, "/admin/cluster/subject/" + segment(subject));
  }

  /**
   * The live node leading the subject's partition, as a live node reports it; polls until one does
   * (30 s). A leader reported but not live (killed, frozen) does not count.
   */
  public String leaderOf(String subject) throws Exception {
    long deadline = System.nanoTime() + LEADER_TIMEOUT.toNanos();
    List<String> seen = new ArrayList<>();
    while (true) {
      for (String node : liveNodes()) {
        try {
          String leader = placement(node, subject).getString("leader");
          if (leader != null && isLive(leader)) {
            return leader;
          }
          seen.add(node + " says " + leader);
        } catch (IOException e) {
          seen.add(node + ": " + e.getMessage());
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError("no live leader of " + subject + " within " + LEADER_TIMEOUT + "; last answers: "
            + seen.subList(Math.max(0, seen.size() - nodes.size()), seen.size()));
      }
      Thread.sleep(200);
    }
  }

  /** The keys of the shared bucket under {@code prefix}, in key order. */
  @SuppressWarnings("try") // the client's close() may throw InterruptedException; try-with-resources still closes it
  public List<String> bucketKeys(String prefix) throws Exception {
    try (MinioClient minio = MinioClient.builder().endpoint(s3.endpoint())
        .credentials(TestS3.ACCESS_KEY, TestS3.SECRET_KEY).build()) {
      return new MinioObjectStore(minio, BUCKET).list(prefix);
    }
  }

  /** The partition of the subject, as a live node reports it. */
  public int partitionOf(String subject) throws Exception {
    for (String node : liveNodes()) {
      try {
        return placement(node, subject).getInteger("partition");
      } catch (IOException e) {
        // the next live node answers
      }
    }
    throw new IOException("no live node answers where " + subject + " is placed");
  }

  /** The node's last {@code count} log lines (its current or last process). */
  public synchronized List<String> tail(String id, int count) {
    Node node = node(id);
    return node.process == null ? List.of() : node.process.tail(count);
  }

  /** Every node's state, pid and last {@code count} log lines, for a failure message. */
  public synchronized String describe(int count) {
    StringBuilder text = new StringBuilder();
    for (Node node : nodes.values()) {
      text.append("==== ").append(node.id).append(" (http ").append(node.httpPort).append(", nats ").append(node.natsPort)
          .append(", hazelcast ").append(node.hazelcastPort).append(", raft ").append(node.raftPort).append(") ");
      if (node.process == null) {
        text.append("never started\n");
        continue;
      }
      text.append("pid ").append(node.process.pid()).append(", start #").append(node.incarnation).append(", ")
          .append(node.running() ? (node.paused ? "SIGSTOPped" : "running") : "ended").append(", last ")
          .append(count).append(" lines:\n");
      node.process.tail(count).forEach(line -> text.append("  ").append(line).append('\n'));
    }
    return text.toString();
  }

  /** Runs {@code action} on each node at once (one thread each) and waits for all; the first failure is thrown. */
  private static void inParallel(List<String> ids, NodeAction action) throws Exception {
    if (ids.isEmpty()) {
      return;
    }
    ExecutorService threads = Executors.newFixedThreadPool(ids.size());
    try {
      List<Future<?>> runs = new ArrayList<>();
      for (String id : ids) {
        runs.add(threads.submit(() -> {
          action.run(id);
          return null;
        }));
      }
      Exception first = null;
      for (Future<?> run : runs) {
        try {
          run.get();
        } catch (ExecutionException e) {
          Exception cause = e.getCause() instanceof Exception c ? c : e;
          if (first == null) {
            first = cause;
          } else {
            first.addSuppressed(cause);
          }
        }
      }
      if (first != null) {
        throw first;
      }
    } finally {
      threads.shutdownNow();
    }
  }

  private void killAll() {
    List<BrokerProcess> processes;
    synchronized (this) {
      processes = nodes.values().stream().map(node -> node.process).filter(p -> p != null).collect(Collectors.toList());
    }
    for (BrokerProcess process : processes) {
      // SIGKILL also ends a JVM frozen by SIGSTOP, which SIGTERM would not.
      try {
        process.kill();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  /**
   * Writes the output of the node's last process to {@code target/cluster-logs/<start>/<node>-<n>.log}
   * (whole, unlike a failure message's tail), for reading after a failed run.
   */
  private void keepLog(Node node) {
    if (node.process == null) {
      return;
    }
    try {
      Files.createDirectories(logDir);
      Files.write(logDir.resolve(node.id + "-" + node.incarnation + ".log"), node.process.output());
    } catch (IOException e) {
      System.out.println("the log of " + node.id + " was not kept: " + e);
    }
  }

  /**
   * Each live node's threads ({@code jcmd <pid> Thread.print}) into the directory of the kept logs,
   * for a failure that leaves nothing in the logs (a stall). Returns that directory.
   */
  public Path dumpThreads() {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    for (String id : liveNodes()) {
      Node node = node(id);
      try {
        Files.createDirectories(logDir);
        Path file = logDir.resolve(id + "-" + node.incarnation + "-threads-" + System.currentTimeMillis() + ".txt");
        Process dump = new ProcessBuilder(jcmd.toString(), Long.toString(node.process.pid()), "Thread.print")
            .redirectErrorStream(true).redirectOutput(file.toFile()).start();
        if (!dump.waitFor(30, TimeUnit.SECONDS)) {
          dump.destroyForcibly();
        }
      } catch (IOException e) {
        System.out.println("no thread dump of " + id + ": " + e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return logDir;
      }
    }
    return logDir;
  }

  /** Kills every node by its pid, keeps their logs and stops the S3 server. */
  @Override
  public void close() {
    killAll();
    synchronized (this) {
      nodes.values().forEach(this::keepLog);
    }
    try {
      Runtime.getRuntime().removeShutdownHook(killOnExit);
    } catch (IllegalStateException e) {
      // the JVM is already shutting down: the hook runs killAll anyway
    }
    s3.close();
  }
}
