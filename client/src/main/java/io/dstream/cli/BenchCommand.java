package io.dstream.cli;

import io.dstream.client.DurableStream;
import io.dstream.client.StreamConnection;
import io.dstream.client.SubscribeOptions;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "bench", mixinStandardHelpOptions = true,
    description = {"Measures publish throughput (pipelined, --window in flight) and then the throughput of one",
        "subscriber replaying what was published. Load only the broker you mean to: it writes --count messages.",
        "A generated subject (bench.<random>) is deleted afterwards unless --keep is given."},
    footer = {"", "Example:", "  dstream bench --count 100000 --size 128 --window 256"})
final class BenchCommand implements Callable<Integer> {

  /** Bounds of one run, so a typo cannot turn into an unbounded load. */
  private static final long MAX_COUNT = 10_000_000;
  private static final int MAX_SIZE = 1024 * 1024;

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", arity = "0..1", description = "Subject (default bench.<random>).")
  String subject;

  @Option(names = "--count", defaultValue = "10000", description = "Messages to publish (default ${DEFAULT-VALUE}).")
  long count;

  @Option(names = "--size", defaultValue = "128", description = "Payload bytes per message (default ${DEFAULT-VALUE}).")
  int size;

  @Option(names = "--window", defaultValue = "256", description = "Publishes in flight (default ${DEFAULT-VALUE}).")
  int window;

  @Option(names = "--max-seconds", defaultValue = "300", description = "Give up after this long (default ${DEFAULT-VALUE}).")
  long maxSeconds;

  @Option(names = "--keep", description = "Keep the generated subject afterwards.")
  boolean keep;

  @Override
  public Integer call() throws Exception {
    if (count < 1 || count > MAX_COUNT || size < 1 || size > MAX_SIZE || window < 1 || window > 1024) {
      throw new IllegalArgumentException("need 1 <= --count <= " + MAX_COUNT + ", 1 <= --size <= " + MAX_SIZE
          + ", 1 <= --window <= 1024");
    }
    String target = subject != null ? subject : "bench.b" + Long.toHexString(System.nanoTime());
    StreamConnection connection = DurableStream.connect(common.builder().publishWindow(window).build(), target).await();
    try {
      return run(connection, target);
    } finally {
      CommonOptions.await(connection.close());
      if (subject == null && !keep) {
        try (BrokerHttp broker = new BrokerHttp(common.clientOptions())) {
          broker.destroy(target);
        }
      }
    }
  }

  private int run(StreamConnection connection, String target) throws Exception {
    long firstSequence = CommonOptions.await(connection.info()).lastSequence() + 1;
    String payload = "x".repeat(size);
    ProgressBar progress = new ProgressBar("publish", common.json, false);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(maxSeconds);
    long start = System.nanoTime();
    long published = 0;
    while (published < count && System.nanoTime() < deadline) {
      int batch = (int) Math.min(10_000, count - published);
      List<Object> messages = new ArrayList<>(batch);
      for (int i = 0; i < batch; i++) {
        messages.add(payload);
      }
      CommonOptions.await(connection.publishAll(messages));
      published += batch;
      progress.update(published, count);
    }
    double publishSeconds = (System.nanoTime() - start) / 1e9;
    progress.finish();

    CountDownLatch all = new CountDownLatch(1);
    AtomicLong received = new AtomicLong();
    long subscribeStart = System.nanoTime();
    long wanted = published;
    connection.subscribe(SubscribeOptions.fromSequence(firstSequence), message -> {
      if (received.incrementAndGet() == wanted) {
        all.countDown();
      }
    }).await();
    long leftMillis = (deadline - System.nanoTime()) / 1_000_000;
    boolean complete = leftMillis > 0 && all.await(leftMillis, TimeUnit.MILLISECONDS);
    double subscribeSeconds = (System.nanoTime() - subscribeStart) / 1e9;
    long got = received.get();
    JsonObject result = new JsonObject().put("subject", target).put("size", size).put("window", window)
        .put("published", published).put("publishSeconds", publishSeconds)
        .put("publishPerSecond", published / publishSeconds)
        .put("received", got).put("subscribeSeconds", subscribeSeconds)
        .put("subscribePerSecond", got / subscribeSeconds).put("complete", complete && published == count);
    common.print(System.out, result, String.format("subject %s, %d messages of %d bytes, window %d%n"
            + "publish:   %,.0f msg/s  %,.1f MB/s  (%.2f s)%n"
            + "subscribe: %,.0f msg/s  %,.1f MB/s  (%.2f s, %d received)",
        target, published, size, window,
        published / publishSeconds, published * (double) size / publishSeconds / 1e6, publishSeconds,
        got / subscribeSeconds, got * (double) size / subscribeSeconds / 1e6, subscribeSeconds, got));
    if (complete && published == count) {
      return ExitCode.OK;
    }
    System.err.println("dstream: bench stopped at --max-seconds " + maxSeconds + " after publishing " + published
        + " of " + count + " and receiving " + got + "; the rates above cover that part. Allow more with --max-seconds,"
        + " or ask for fewer with --count");
    return ExitCode.TIMEOUT;
  }
}
