package io.dstream.bench.load;

import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.http.WebSocket;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Idle WebSockets (issue 7, ours only): opens {@code sockets} protocol v1 sockets spread over a few
 * subjects, each a real subscriber (its subscribe answered), leaves them idle for longer than the
 * broker's ping interval, checks that every one is still open and still gets a publish to its subject,
 * and reads the broker's memory before and after (heap after a full GC, and RSS): the difference over
 * the socket count is what one idle subscribed socket costs. The caller starts the broker with a
 * short ping interval and an idle-connection timeout shorter than the idle period, so only the
 * pings keep the sockets open.
 */
final class IdleSockets {

  private record Subscribed(WebSocket socket, V1Subscriber subscriber) {
  }

  /** The sockets of one {@link #open} call, filled from the event loops. */
  private static final class Opened {
    final Queue<Subscribed> all = new ConcurrentLinkedQueue<>();
    final AtomicInteger closed = new AtomicInteger();
  }

  private final OursTarget target;
  private final MetricsScrape metrics;
  private final PrintStream log;
  private final String prefix = "sockets." + Long.toString(System.currentTimeMillis() % 1_000_000_000L, 36) + ".";

  IdleSockets(OursTarget target, String hostPort, String apiKey, PrintStream log) {
    this.target = target;
    this.metrics = new MetricsScrape(hostPort, apiKey);
    this.log = log;
  }

  void run(int sockets, int subjects, int concurrency, long idleMs, long brokerPid, long timeoutMs) throws Exception {
    Deadline deadline = new Deadline(timeoutMs);
    // The same path once at a small scale first, so class loading, JIT code and the subjects'
    // actors are in the baseline and the difference is the sockets alone.
    Opened warmUp = open(Math.min(concurrency, sockets), subjects, concurrency, deadline);
    warmUp.all.forEach(held -> held.socket().close());
    awaitBrokerSockets(0, deadline);
    long heapBefore = ProcessMemory.heapUsedAfterGcKiB(brokerPid);
    long residentBefore = ProcessMemory.residentKiB(brokerPid);
    log.printf("broker before: heap after GC %,d KiB, RSS %,d KiB%n", heapBefore, residentBefore);

    long start = System.nanoTime();
    Opened opened = open(sockets, subjects, concurrency, deadline);
    double openSeconds = (System.nanoTime() - start) / 1e9;
    double brokerSockets = awaitBrokerSockets(sockets, deadline);
    log.printf("%,d sockets subscribed in %.1f s (broker counts %.0f); idle for %,d ms%n", sockets, openSeconds,
        brokerSockets, idleMs);
    Thread.sleep(Math.min(idleMs, deadline.remainingMs()));
    int openAfterIdle = sockets - opened.closed.get();
    double brokerAfterIdle = metrics.gauge("dstream_websockets");
    int reached = publishToEverySubject(opened, subjects, deadline);
    long heapAfter = ProcessMemory.heapUsedAfterGcKiB(brokerPid);
    long residentAfter = ProcessMemory.residentKiB(brokerPid);
    log.printf("after idle: %,d open here, %.0f at the broker, %,d reached by a publish; broker heap after GC %,d KiB,"
        + " RSS %,d KiB%n", openAfterIdle, brokerAfterIdle, reached, heapAfter, residentAfter);

    record("sockets held", sockets, true);
    record("sockets opened and subscribed/s", sockets / openSeconds, true);
    record("sockets open after idle", openAfterIdle, true);
    record("idle subscribers reached by a publish", reached, true);
    if (heapBefore >= 0 && heapAfter >= 0) {
      record("broker heap after full GC before MiB", heapBefore / 1024.0, false);
      record("broker heap after full GC with sockets MiB", heapAfter / 1024.0, false);
      record("broker heap bytes per socket", (heapAfter - heapBefore) * 1024.0 / sockets, false);
    }
    if (residentBefore >= 0 && residentAfter >= 0) {
      record("broker RSS before MiB", residentBefore / 1024.0, false);
      record("broker RSS with sockets MiB", residentAfter / 1024.0, false);
      record("broker RSS bytes per socket", (residentAfter - residentBefore) * 1024.0 / sockets, false);
    }
    opened.all.forEach(held -> held.socket().close());
    if (openAfterIdle != sockets || reached != sockets) {
      throw new IllegalStateException("of " + sockets + " idle sockets " + openAfterIdle + " stayed open and "
          + reached + " got the publish");
    }
  }

  private String subject(int index, int subjects) {
    return prefix + (index % subjects);
  }

  /** Opens and subscribes {@code count} sockets, at most {@code concurrency} connecting at a time. */
  private Opened open(int count, int subjects, int concurrency, Deadline deadline) throws Exception {
    Opened opened = new Opened();
    AtomicInteger next = new AtomicInteger();
    List<Future<Void>> loops = new ArrayList<>();
    for (int i = 0; i < Math.min(concurrency, count); i++) {
      Promise<Void> loop = Promise.promise();
      Context context = target.nextContext();
      Runnable opening = new Runnable() {
        @Override
        public void run() {
          int index = next.getAndIncrement();
          if (index >= count) {
            loop.tryComplete();
            return;
          }
          target.connect(context, subject(index, subjects)).compose(socket -> {
            V1Subscriber subscriber = new V1Subscriber(socket, 1, null);
            socket.closeHandler(v -> opened.closed.incrementAndGet());
            opened.all.add(new Subscribed(socket, subscriber));
            return subscriber.subscribe(0);
          }).onSuccess(v -> {
            if ((index + 1) % 2_000 == 0) {
              log.printf("  %,d sockets%n", index + 1);
            }
            run();
          }).onFailure(failure -> loop.tryFail(new IllegalStateException("socket " + index + " failed", failure)));
        }
      };
      context.runOnContext(v -> opening.run());
      loops.add(loop.future());
    }
    for (Future<Void> loop : loops) {
      OursTarget.await(loop, deadline, "opening " + count + " sockets");
    }
    return opened;
  }

  /** Polls the broker's socket gauge until it shows {@code expected}; returns the last reading. */
  private double awaitBrokerSockets(int expected, Deadline deadline) throws Exception {
    double sockets = metrics.gauge("dstream_websockets");
    while (sockets != expected && deadline.remainingMs() > 0) {
      Thread.sleep(100);
      sockets = metrics.gauge("dstream_websockets");
    }
    return sockets;
  }

  /** Publishes one message to each subject; returns how many subscribers received theirs in time. */
  private int publishToEverySubject(Opened opened, int subjects, Deadline deadline) throws Exception {
    for (int s = 0; s < subjects; s++) {
      Context context = target.nextContext();
      WebSocket socket = OursTarget.await(target.connect(context, subject(s, subjects)), deadline, "connect");
      V1Publisher publisher = new V1Publisher(socket, 1, 1, null);
      context.runOnContext(v -> publisher.start());
      OursTarget.await(publisher.done(), deadline, "publish after idle");
      socket.close();
    }
    List<Future<Void>> deliveries = new ArrayList<>();
    opened.all.forEach(held -> deliveries.add(held.subscriber().done()));
    try {
      OursTarget.await(Future.join(deliveries), deadline, "delivery to the idle subscribers");
    } catch (TimeoutException | ExecutionException e) {
      log.println("not every idle subscriber got the publish: " + e.getMessage());
    }
    return (int) deliveries.stream().filter(Future::succeeded).count();
  }

  private void record(String metric, double value, boolean higherIsBetter) {
    log.println(new Measurement(Scenario.SOCKETS, ResultTable.OURS_ALWAYS, metric, value, higherIsBetter).line());
  }
}
