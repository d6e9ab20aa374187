package io.dstream.broker.cluster;

import io.dstream.broker.config.ClusterSettings;
import io.dstream.broker.store.MessageStore;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;

/**
 * Serves copies of this node's partitions to replicas that need one ({@link PartitionCopy}), over
 * the clustered event bus, one page per request. A copy is a session: its first request takes the
 * cut into a manifest file under {@code <data dir>/raft-copies}, later requests name the session and
 * where to go on. A session not asked for a page for twice the copy's page timeout ends, and so does
 * one whose last page was sent; its manifest is deleted.
 *
 * <p>While it serves a copy of a partition, this node takes no snapshot of it, so its Raft log keeps
 * the entries after the cut that the copying replica applies next (PartitionMachine#takeSnapshot).
 *
 * <p>Request: {@code int partition | int length | session (UTF-8, empty to start one) | long offset |
 * long from}. Answer: {@code int length | session | byte last | long offset | long from | data}.
 */
final class CopySource implements AutoCloseable {

  private static final Logger LOG = LoggerFactory.getLogger(CopySource.class);

  private static final class Session {
    final int partition;
    final Path manifest;
    volatile long lastUsedNanos = System.nanoTime();

    Session(int partition, Path manifest) {
      this.partition = partition;
      this.manifest = manifest;
    }
  }

  private final MessageStore store;
  private final ReplicaWriter replicas;
  private final Placement placement;
  private final Path dir;
  private final ClusterSettings.Copy bounds;
  private final Map<String, Session> sessions = new ConcurrentHashMap<>();

  /** Deletes what an earlier run of the process left in {@code dir}. */
  CopySource(MessageStore store, ReplicaWriter replicas, Placement placement, Path dir, ClusterSettings.Copy bounds)
      throws IOException {
    this.store = store;
    this.bounds = bounds;
    this.replicas = replicas;
    this.placement = placement;
    this.dir = dir;
    Files.createDirectories(dir);
    try (Stream<Path> left = Files.list(dir)) {
      for (Path file : (Iterable<Path>) left::iterator) {
        Files.deleteIfExists(file);
      }
    }
  }

  static String address(String node) {
    return "dstream.node." + node + ".copy";
  }

  /** A page request in the format above: {@code session} empty to start a copy. */
  static Buffer request(int partition, String session, long offset, long from) {
    byte[] id = session.getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer(24 + id.length).appendInt(partition).appendInt(id.length).appendBytes(id).appendLong(offset)
        .appendLong(from);
  }

  /** Answers the copy requests sent to this node, each on a worker thread. */
  void listen(Vertx vertx, String nodeId) {
    vertx.eventBus().<Buffer>consumer(address(nodeId), message -> vertx.executeBlocking(() -> serve(message.body()), false)
        .onComplete(ar -> {
          if (ar.succeeded()) {
            message.reply(ar.result());
          } else {
            message.fail(1, String.valueOf(ar.cause().getMessage()));
          }
        }));
  }

  /** Whether a copy of {@code partition} is being served from here. */
  boolean serving(int partition) {
    expire();
    for (Session session : sessions.values()) {
      if (session.partition == partition) {
        return true;
      }
    }
    return false;
  }

  /** Answers one page request. Blocking (the first page waits for the cut on the replica writer thread). */
  Buffer serve(Buffer request) throws IOException {
    expire();
    int partition = request.getInt(0);
    int idLength = request.getInt(4);
    String id = request.getString(8, 8 + idLength, StandardCharsets.UTF_8.name());
    PartitionCopy.Position at = new PartitionCopy.Position(request.getLong(8 + idLength), request.getLong(16 + idLength));
    Session session = id.isEmpty() ? open(partition) : sessions.get(id);
    if (session == null || session.partition != partition) {
      throw new IOException("no copy '" + id + "' of partition " + partition + " here (ended after "
          + bounds.idle().toMillis() + " ms without a request, or this node restarted)");
    }
    if (id.isEmpty()) {
      id = UUID.randomUUID().toString();
      sessions.put(id, session);
    }
    session.lastUsedNanos = System.nanoTime();
    PartitionCopy.Page page = PartitionCopy.page(store, session.manifest, at, bounds.pageBytes());
    boolean last = page.next() == null;
    if (last) {
      end(id);
    }
    PartitionCopy.Position next = last ? at : page.next();
    byte[] name = id.getBytes(StandardCharsets.UTF_8);
    return Buffer.buffer(page.data().length + name.length + 21).appendInt(name.length).appendBytes(name)
        .appendByte((byte) (last ? 1 : 0)).appendLong(next.offset()).appendLong(next.from()).appendBytes(page.data());
  }

  private Session open(int partition) throws IOException {
    if (!placement.holds(partition)) {
      throw new IOException("this node holds no replica of partition " + partition);
    }
    Path manifest = Files.createTempFile(dir, "p" + partition + "-", ".manifest");
    try {
      ReplicaWriter.Applied cut = replicas.run(() -> {
        ReplicaWriter.Applied applied = replicas.applied(partition);
        if (applied.copying()) {
          throw new IOException("this node's replica of partition " + partition + " is being copied itself");
        }
        PartitionCopy.cut(store, placement, partition, applied, manifest);
        return applied;
      }).join();
      LOG.info("partition {}: serving a copy cut at {} ({} bytes of subject records)", partition, cut,
          Files.size(manifest));
      return new Session(partition, manifest);
    } catch (CompletionException e) {
      Files.deleteIfExists(manifest);
      throw e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
    }
  }

  private void expire() {
    long now = System.nanoTime();
    long idle = bounds.idle().toNanos();
    for (Iterator<Map.Entry<String, Session>> it = sessions.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<String, Session> entry = it.next();
      if (now - entry.getValue().lastUsedNanos > idle) {
        LOG.warn("partition {}: the copy {} asked for nothing for {} ms, ended", entry.getValue().partition,
            entry.getKey(), bounds.idle().toMillis());
        end(entry.getKey());
      }
    }
  }

  private void end(String id) {
    Session session = sessions.remove(id);
    if (session != null) {
      try {
        Files.deleteIfExists(session.manifest);
      } catch (IOException e) {
        LOG.warn("cannot delete the copy manifest {}: {}", session.manifest, e.toString());
      }
    }
  }

  @Override
  public void close() {
    sessions.keySet().forEach(this::end);
  }
}
