package io.dstream.broker.stream;

import io.dstream.broker.archive.ArchiveHost;
import io.dstream.broker.archive.SubjectArchive;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.vertx.core.Future;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * The actor's side of its subject's {@link SubjectArchive} (checkpoints in the bucket): it shows
 * the archive the durable numbers, lets it read committed local messages, and queues the eviction of
 * checkpointed messages from the local store through the {@link WritePipeline}. When the actor
 * hibernates with checkpoint work left, {@link #detach} hands the archive a host that needs no actor.
 *
 * <p>Threading: called on the actor's context only.
 */
final class ArchiveLink implements ArchiveHost {

  private static final Logger LOG = LoggerFactory.getLogger(ArchiveLink.class);

  private final String subject;
  private final StreamEnvironment env;
  private final WritePipeline numbers;
  private final SubjectArchive archive;

  /**
   * Links a new actor to {@code detached}, the archive the shard kept while it hibernated, or to a
   * new one. A detached archive becomes this link's in {@link #adopt}, on the actor's context.
   */
  ArchiveLink(String subject, StreamEnvironment env, WritePipeline numbers, SubjectArchive detached, long nowMs,
              long term) {
    this.subject = subject;
    this.env = env;
    this.numbers = numbers;
    this.archive = detached != null ? detached : new SubjectArchive(subject, env.archive(), this, nowMs, term);
  }

  /** Makes this link the archive's host (a no-op for an archive created with it). */
  void adopt() {
    archive.host(this);
  }

  SubjectArchive archive() {
    return archive;
  }

  @Override
  public ArchiveHost.Snapshot snapshot() {
    return new ArchiveHost.Snapshot(numbers.firstSequence(), numbers.lastDurable(), numbers.state(),
        numbers.stateRevision(), numbers.durableProducerVersion(), numbers.lastTimestampMs(), numbers.attributes());
  }

  @Override
  public Future<List<StoredMessage>> readLocal(long from, int maxMessages, long maxBytes) {
    return LogReader.readLocal(env, numbers.subjectId(), from, maxMessages, maxBytes);
  }

  @Override
  public void evict(long upTo) {
    var policy = env.archive().policy();
    long minTimestamp = env.clock().millis() - policy.hotAge().toMillis();
    StoreWrite evict = new StoreWrite.Evict(upTo, policy.hotMessages(), policy.hotBytes(), minTimestamp);
    numbers.queue(List.of(evict), new WritePipeline.Completion() {
      @Override
      public void succeeded() {
        env.metrics().registry().counter("dstream_archive_eviction_runs").increment();
      }

      @Override
      public void failed(Throwable failure) {
        LOG.warn("subject '{}': evicting checkpointed messages from the local store failed: {}", subject,
            failure.toString());
      }
    });
  }

  /**
   * The archive of a hibernating actor if it still has work (a checkpoint to take, a manifest to
   * read, checkpoints to delete), switched to a host that needs no actor; {@code null} if idle.
   */
  SubjectArchive detach() {
    if (archive.idle()) {
      return null;
    }
    long id = numbers.subjectId();
    StreamEnvironment environment = env;
    // The reader must not capture the actor: the link can wait long for the bucket, and a retained
    // actor (its message cache above all) cost 4 KB per hibernated subject while checkpoints lagged.
    archive.host(ArchiveHost.detached(snapshot(),
        (from, maxMessages, maxBytes) -> LogReader.readLocal(environment, id, from, maxMessages, maxBytes)));
    return archive;
  }
}
