package io.dstream.broker.cluster;

import io.dstream.broker.store.MessageStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntFunction;

/**
 * Fetches a copy of a partition from the replica that leads it ({@link CopySource}) and installs it
 * ({@link PartitionCopy#install}), on one thread per node: copies of several partitions run one after
 * the other. A copy that fails (the source died, lost its leadership, took longer than the copy's
 * page timeout for a page) starts again from the beginning after {@link #RETRY_MS}, from
 * whichever node leads then, until one succeeds or the node closes: the partition's store was
 * cleared by the failed attempt, so there is nothing else this replica can do for it.
 */
final class CopyTarget implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CopyTarget.class);
  private static final long RETRY_MS = 1_000;

  /** Sends one page request to a node and waits for its answer. */
  @FunctionalInterface
  interface Fetch {
    Buffer page(String node, Buffer request) throws IOException, InterruptedException;
  }

  private final String self;
  private final MessageStore store;
  private final ReplicaWriter replicas;
  private final Placement placement;
  private final IntFunction<String> leaderOf;
  private final Fetch fetch;
  private final int pageBytes;
  private final ExecutorService thread = Executors.newSingleThreadExecutor(task -> {
    Thread copier = new Thread(task, "dstream-partition-copy");
    copier.setDaemon(true);
    return copier;
  });

  CopyTarget(String self, MessageStore store, ReplicaWriter replicas, Placement placement, IntFunction<String> leaderOf,
             Fetch fetch, int pageBytes) {
    this.self = self;
    this.pageBytes = pageBytes;
    this.store = store;
    this.replicas = replicas;
    this.placement = placement;
    this.leaderOf = leaderOf;
    this.fetch = fetch;
  }

  /** Page requests over the clustered event bus, each answered within {@code timeout}. */
  static Fetch overEventBus(Vertx vertx, Duration timeout) {
    return (node, request) -> {
      try {
        return vertx.eventBus().<Buffer>request(CopySource.address(node), request,
                new DeliveryOptions().setSendTimeout(timeout.toMillis()))
            .toCompletionStage().toCompletableFuture().get(timeout.toMillis() + 1_000, TimeUnit.MILLISECONDS).body();
      } catch (ExecutionException e) {
        throw new IOException("asking " + node + " for a page of a copy failed: " + e.getCause().getMessage(), e.getCause());
      } catch (TimeoutException e) {
        throw new IOException("asking " + node + " for a page of a copy timed out", e);
      }
    };
  }

  /**
   * Copies {@code partition}, from {@code source} first (the leader Raft named), then from whichever
   * node leads it; {@code first} runs on the copy thread before anything is changed.
   */
  CompletableFuture<ReplicaWriter.Applied> copy(int partition, String source, Runnable first) {
    return CompletableFuture.supplyAsync(() -> {
      first.run();
      String from = source;
      while (true) {
        try {
          if (from == null || from.equals(self)) {
            throw new IOException("no other node leads partition " + partition + " now");
          }
          long started = System.nanoTime();
          ReplicaWriter.Applied applied = PartitionCopy.install(replicas, store, placement, partition,
              new Pages(from, partition), pageBytes);
          LOG.info("partition {}: installed a copy from {} at {} in {} ms", partition, from, applied,
              TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started));
          return applied;
        } catch (IOException | RuntimeException e) {
          // Whatever failed, the partition's entries wait for a copy: only a closing node gives up.
          LOG.warn("partition {}: copying it from {} failed, again in {} ms: {}", partition, from, RETRY_MS, e.toString());
        }
        try {
          Thread.sleep(RETRY_MS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          throw new IllegalStateException("closed while copying partition " + partition, e);
        }
        from = leaderOf.apply(partition);
      }
    }, thread);
  }

  /** The copy as one stream, a page requested whenever the last one is read. */
  private final class Pages extends InputStream {
    private final String node;
    private final int partition;
    private String session = "";
    private long offset;
    private long from;
    private boolean last;
    private Buffer page = Buffer.buffer();
    private int read;

    Pages(String node, int partition) {
      this.node = node;
      this.partition = partition;
    }

    @Override
    public int read() throws IOException {
      if (!filled()) {
        return -1;
      }
      return page.getByte(read++) & 0xff;
    }

    @Override
    public int read(byte[] into, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (!filled()) {
        return -1;
      }
      int n = Math.min(len, page.length() - read);
      page.getBytes(read, read + n, into, off);
      read += n;
      return n;
    }

    /** Whether a byte is there to read, after asking for pages as long as the last one was read and more follow. */
    private boolean filled() throws IOException {
      while (read == page.length()) {
        if (last) {
          return false;
        }
        next();
      }
      return true;
    }

    private void next() throws IOException {
      Buffer answer;
      try {
        answer = fetch.page(node, CopySource.request(partition, session, offset, from));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IOException("interrupted while copying partition " + partition, e);
      }
      int idLength = answer.getInt(0);
      session = answer.getString(4, 4 + idLength, StandardCharsets.UTF_8.name());
      int at = 4 + idLength;
      last = answer.getByte(at) == 1;
      offset = answer.getLong(at + 1);
      from = answer.getLong(at + 9);
      page = answer.slice(at + 17, answer.length());
      read = 0;
    }
  }

  /** Stops the copy thread; a copy under way fails. */
  @Override
  public void close() {
    thread.shutdownNow();
  }
}
