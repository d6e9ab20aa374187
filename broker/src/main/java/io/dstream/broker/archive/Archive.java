package io.dstream.broker.archive;

import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.s3.S3Connection;
import io.dstream.broker.store.StoredMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The checkpoint tier of all subjects: reads and writes manifests and segments (formats in
 * {@link Manifest} and {@link Segment}, layout in {@link ArchiveKeys}) through an
 * {@link ObjectStore}, always on the S3 connection's archive worker pool, results as futures
 * completing on the caller's context. Per-subject decisions (when to checkpoint, what to evict,
 * where to read) are {@link SubjectArchive}'s. Thread-safe.
 *
 * <p>Checkpoint lag: each subject with committed changes that no checkpoint covers yet is listed
 * here with the wall-clock time since when (active and hibernated subjects alike, written by their
 * {@link SubjectArchive} on its actor's or shard's context, only when that state flips); a scrape
 * computes the oldest over the list, so publishing pays nothing for the gauge.
 */
public final class Archive {

  private final S3Connection connection;
  private final ObjectStore objects;
  private final ArchivePolicy policy;
  final Counter segmentsUploaded;
  final Counter manifestsWritten;
  final Counter checkpointFailures;
  final Counter segmentReads;
  final Counter restores;
  /** Checkpoints under way broker-wide, bounded so a crowd of subjects cannot flood memory and the pool. */
  private final AtomicInteger checkpointsRunning = new AtomicInteger();
  private final int maxCheckpointsRunning;
  /** Subjects with committed changes no checkpoint covers: wall-clock ms since when. */
  private final Map<String, Long> uncoveredSince = new ConcurrentHashMap<>();
  /** The latest checkpoint outcome broker-wide, for the readiness answer; see {@link #checkpointHealth()}. */
  private volatile CheckpointOutcome latestOutcome = new CheckpointOutcome(0, null);
  /** Completed once the bucket was asked whether it held any checkpoints when this broker started. */
  private Future<Boolean> heldCheckpointsAtStart;

  public Archive(S3Connection connection, ObjectStore objects, ArchivePolicy policy, MeterRegistry registry) {
    this.connection = connection;
    this.objects = objects;
    this.policy = policy;
    this.maxCheckpointsRunning = 4 * connection.archiveThreads();
    this.segmentsUploaded = Counter.builder("dstream_archive_segments_uploaded")
        .description("Segment objects written by checkpoints").register(registry);
    this.manifestsWritten = Counter.builder("dstream_archive_manifests_written")
        .description("Manifests written by checkpoints").register(registry);
    this.checkpointFailures = Counter.builder("dstream_archive_checkpoint_failures")
        .description("Checkpoint attempts that failed and will be retried").register(registry);
    this.segmentReads = Counter.builder("dstream_archive_segment_reads")
        .description("Segments downloaded to serve replays older than the local hot window").register(registry);
    this.restores = Counter.builder("dstream_archive_restores")
        .description("Subjects rebuilt from their manifest on an empty local store").register(registry);
    Gauge.builder("dstream_archive_checkpoint_lag_seconds", this, Archive::checkpointLagSeconds)
        .description("Age of the oldest committed change no checkpoint covers yet, over all subjects; 0 when all are")
        .register(registry);
    Gauge.builder("dstream_archive_subjects_behind", uncoveredSince, Map::size)
        .description("Subjects with committed changes no checkpoint covers yet").register(registry);
  }

  /** The subject has committed changes no checkpoint covers, the oldest from {@code sinceMs} on. */
  void uncovered(String subject, long sinceMs) {
    uncoveredSince.put(subject, sinceMs);
  }

  /** Everything the subject committed is checkpointed (or is never to be: checkpoints off, destroyed). */
  void covered(String subject) {
    uncoveredSince.remove(subject);
  }

  /** A checkpoint of some subject was written at {@code nowMs}. */
  void checkpointSucceeded(long nowMs) {
    latestOutcome = new CheckpointOutcome(nowMs, null);
  }

  /** A checkpoint attempt failed at {@code nowMs}; it is retried with backoff. */
  void checkpointFailed(long nowMs, Throwable cause) {
    checkpointFailures.increment();
    latestOutcome = new CheckpointOutcome(nowMs, cause.getMessage() == null ? cause.toString() : cause.getMessage());
  }

  /**
   * How checkpoints are doing, broker-wide.
   *
   * @param subjectsBehind subjects with committed changes no checkpoint covers yet
   * @param lagSeconds age of the oldest such change, 0 if none
   * @param latestAtMs when the latest checkpoint attempt ended (epoch ms), 0 if none did yet
   * @param latestFailure why that attempt failed, or null if it succeeded
   */
  public record CheckpointHealth(int subjectsBehind, double lagSeconds, long latestAtMs, String latestFailure) {
  }

  private record CheckpointOutcome(long atMs, String failure) {
  }

  /** @return the checkpoint figures the readiness answer reports */
  public CheckpointHealth checkpointHealth() {
    CheckpointOutcome outcome = latestOutcome;
    return new CheckpointHealth(uncoveredSince.size(), checkpointLagSeconds(), outcome.atMs(), outcome.failure());
  }

  /** Seconds since the oldest uncovered change of any subject; 0 if there is none. */
  double checkpointLagSeconds() {
    long oldest = Long.MAX_VALUE;
    for (long since : uncoveredSince.values()) {
      oldest = Math.min(oldest, since);
    }
    return oldest == Long.MAX_VALUE ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
  }

  public ArchivePolicy policy() {
    return policy;
  }

  /** Takes one of the broker-wide checkpoint slots; false (take none) if all are in use. */
  boolean tryStartCheckpoint() {
    if (checkpointsRunning.incrementAndGet() > maxCheckpointsRunning) {
      checkpointsRunning.decrementAndGet();
      return false;
    }
    return true;
  }

  void checkpointEnded() {
    checkpointsRunning.decrementAndGet();
  }

  /**
   * Whether the bucket held checkpoints of any subject when this broker started. If it held none,
   * no subject this broker finds empty can need a restore (every checkpoint since was written by
   * this broker, of a subject it has locally), so loading a new subject need not ask the bucket.
   * Asked once; asked again after a failure.
   */
  public synchronized Future<Boolean> heldCheckpointsAtStart() {
    if (heldCheckpointsAtStart == null || heldCheckpointsAtStart.failed()) {
      heldCheckpointsAtStart = connection.archive("list_checkpoints", () -> objects.anyWithPrefix(ArchiveKeys.SUBJECTS_PREFIX));
    }
    return heldCheckpointsAtStart;
  }

  /** The subject's manifest, or empty if the bucket has none. */
  public Future<Optional<Manifest>> manifest(String subject) {
    return connection.archive("get_manifest", () -> objects.get(ArchiveKeys.manifest(subject)).map(Manifest::decode));
  }

  /** Encodes and uploads a segment under a new unique key. */
  public Future<Manifest.SegmentRef> upload(Segment segment) {
    return connection.archive("put_segment", () -> {
      String key = ArchiveKeys.newSegment(segment.subject(), segment.firstSequence(), segment.lastSequence());
      objects.put(key, segment.encode(), "application/zstd");
      segmentsUploaded.increment();
      return new Manifest.SegmentRef(key, segment.firstSequence(), segment.lastSequence(), segment.firstTimestampMs(),
          segment.lastTimestampMs(), segment.messages().size(), segment.payloadBytes());
    });
  }

  /** Writes the manifest, then deletes the segments it no longer names. */
  public Future<Void> commit(Manifest previous, Manifest next) {
    return connection.archive("put_manifest", () -> {
      objects.put(ArchiveKeys.manifest(next.subject()), next.encode(), "application/json");
      manifestsWritten.increment();
      objects.delete(previous.droppedIn(next));
      return null;
    });
  }

  /** Downloads and decodes a segment's messages. */
  public Future<List<StoredMessage>> read(Manifest.SegmentRef ref) {
    return connection.archive("get_segment", () -> {
      byte[] bytes = objects.get(ref.key())
          .orElseThrow(() -> new IllegalStateException("segment " + ref.key() + " named by the manifest is missing"));
      segmentReads.increment();
      return Segment.decode(bytes).messages();
    });
  }

  /**
   * Deletes every checkpoint of the subject (its manifest first, so a crash half-way leaves no
   * manifest naming deleted segments). Called when a subject is destroyed.
   */
  public Future<Void> destroy(String subject) {
    return connection.archive("delete_checkpoints", () -> {
      objects.delete(List.of(ArchiveKeys.manifest(subject)));
      objects.delete(objects.list(ArchiveKeys.subjectPrefix(subject)));
      return null;
    });
  }
}
