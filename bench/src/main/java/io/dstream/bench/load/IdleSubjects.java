package io.dstream.bench.load;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Scenario 6 (ours only): publishes one message to each of {@code subjects} subjects (one records API
 * {@code POST} each over keep-alive connections: a WebSocket per subject spent most of the broker's
 * time on upgrade handshakes, which is not what the scenario measures), waits until the
 * broker has hibernated their actors, checks a sample of them still answers with its message, and
 * reads the broker's heap after a full GC (jcmd). The broker is started by the caller with the heap
 * under test (-Xmx1g) and a short idle timeout.
 */
final class IdleSubjects {

  private static final Pattern ACTIVE = Pattern.compile("(?m)^dstream_actors_active (\\S+)");
  private static final Pattern HEAP_USED = Pattern.compile("total \\d+K, used (\\d+)K");
  private static final int SAMPLE = 200;
  private static final String RECORD = "{\"records\":[{\"data\":\"" + "x".repeat(128) + "\"}]}";

  private final OursTarget target;
  private final String hostPort;
  private final String apiKey;
  private final PrintStream log;
  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
  private final String prefix = "idle." + Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36) + ".";

  IdleSubjects(OursTarget target, String hostPort, String apiKey, PrintStream log) {
    this.target = target;
    this.hostPort = hostPort;
    this.apiKey = apiKey;
    this.log = log;
  }

  /**
   * Creates up to {@code target} subjects, stopping early when {@code budgetMs} is spent (then the
   * count held is what the creation rate allowed, not what the heap allows).
   */
  void run(int targetSubjects, int concurrency, long brokerPid, long budgetMs, long timeoutMs) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    long stopCreatingAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(budgetMs);
    AtomicInteger next = new AtomicInteger();
    AtomicInteger created = new AtomicInteger();
    long start = System.nanoTime();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      Promise<Void> loop = Promise.promise();
      Context context = target.nextContext();
      Runnable publishing = new Runnable() {
        @Override
        public void run() {
          int index = next.getAndIncrement();
          if (index >= targetSubjects || System.nanoTime() > stopCreatingAt) {
            loop.tryComplete();
            return;
          }
          publishOne(context, index).onSuccess(v -> {
            if (created.incrementAndGet() % 100_000 == 0) {
              log.printf("  %,d subjects%n", created.get());
            }
            run();
          }).onFailure(loop::tryFail);
        }
      };
      context.runOnContext(v -> publishing.run());
      loops.add(loop.future());
    }
    for (Future<Void> loop : loops) {
      OursTarget.await(loop, deadline, "publishing to " + targetSubjects + " subjects");
    }
    int subjects = created.get();
    double seconds = (System.nanoTime() - start) / 1e9;
    log.printf("published one message to each of %,d subjects in %.1f s%s%n", subjects, seconds,
        subjects < targetSubjects ? " (the time budget ran out before " + targetSubjects + ")" : "");
    double active = awaitHibernation(deadline);
    int verified = verifySample(subjects, deadline);
    double heapMiB = heapUsedAfterGc(brokerPid);
    record("subjects held", subjects, true);
    record("subjects created/s", subjects / seconds, true);
    record("actors in memory after hibernation", active, false);
    record("sampled subjects intact (of " + SAMPLE + ")", verified, true);
    if (heapMiB >= 0) {
      record("heap used after full GC MiB", heapMiB, false);
    }
    if (verified != Math.min(SAMPLE, subjects)) {
      throw new IllegalStateException("only " + verified + " sampled subjects still hold their message");
    }
  }

  private Future<Void> publishOne(Context context, int index) {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + hostPort + "/stream/" + prefix + index))
        .header("auth", apiKey).header("Content-Type", "application/json")
        .POST(HttpRequest.BodyPublishers.ofString(RECORD)).build();
    return Future.fromCompletionStage(http.sendAsync(request, HttpResponse.BodyHandlers.ofString()), context)
        .compose(response -> response.statusCode() == 200 ? Future.<Void>succeededFuture()
            : Future.failedFuture("POST to " + prefix + index + " answered " + response.statusCode() + ": "
                + response.body()));
  }

  private double awaitHibernation(Deadline deadline) throws Exception {
    HttpRequest request = HttpRequest.newBuilder(URI.create("http://" + hostPort + "/metrics"))
        .header("Authorization", "Bearer " + apiKey).build();
    double active = Double.NaN;
    while (deadline.remainingMs() > 0) {
      Matcher matcher = ACTIVE.matcher(http.send(request, HttpResponse.BodyHandlers.ofString()).body());
      active = matcher.find() ? Double.parseDouble(matcher.group(1)) : Double.NaN;
      if (active == 0) {
        break;
      }
      Thread.sleep(200);
    }
    log.printf("actors in memory after hibernation: %.0f%n", active);
    return active;
  }

  /** Reads back every n-th subject's info: it must still hold exactly its one message. */
  private int verifySample(int subjects, Deadline deadline) throws Exception {
    int verified = 0;
    int step = Math.max(1, subjects / SAMPLE);
    for (int index = 0; index < subjects && verified < SAMPLE; index += step) {
      Context context = target.nextContext();
      WebSocket socket = OursTarget.await(target.connect(context, prefix + index), deadline, "connect");
      Promise<String> reply = Promise.promise();
      socket.textMessageHandler(reply::tryComplete);
      socket.writeTextMessage("{\"data\":{\"cmd\":\"getStreamInfo\"},\"cMsgId\":1,\"clientId\":1}");
      String info = OursTarget.await(reply.future(), deadline, "getStreamInfo");
      socket.close();
      if (info.contains("\"messages\":1,")) {
        verified++;
      } else {
        log.println("subject " + prefix + index + " answered " + info);
      }
    }
    return verified;
  }

  private double heapUsedAfterGc(long brokerPid) throws IOException, InterruptedException {
    if (brokerPid <= 0) {
      return -1;
    }
    jcmd(brokerPid, "GC.run");
    Matcher matcher = HEAP_USED.matcher(jcmd(brokerPid, "GC.heap_info"));
    return matcher.find() ? Long.parseLong(matcher.group(1)) / 1024.0 : -1;
  }

  private static String jcmd(long pid, String command) throws IOException, InterruptedException {
    Process process = new ProcessBuilder("jcmd", Long.toString(pid), command).redirectErrorStream(true).start();
    byte[] output = process.getInputStream().readAllBytes();
    process.waitFor(60, TimeUnit.SECONDS);
    return new String(output, StandardCharsets.UTF_8);
  }

  private void record(String metric, double value, boolean higherIsBetter) {
    log.println(new Measurement(Scenario.IDLE, "ours-always", metric, value, higherIsBetter).line());
  }
}
