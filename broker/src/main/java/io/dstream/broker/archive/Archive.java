package io.dstream.broker.archive;

import io.dstream.broker.config.ArchivePolicy;
import io.dstream.broker.config.CompactionPolicy;
import io.dstream.broker.s3.S3Connection;
import io.dstream.broker.store.StoredMessage;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;

import java.util.ArrayList;
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
  final Counter compactions;
  final Counter segmentsCompacted;
  private final Counter deletedByRetention;
  private final Counter deletedByCompaction;
  private final Counter deletedAsOrphans;
  private final Counter deletedWithSubject;
  private final CompactionPolicy compaction;
  private final TermCheck termCheck;
  /** When this broker started: manifests written before may be followed by orphans of a crash. */
  private final long startedAtMs = System.currentTimeMillis();
  /** Checkpoints under way broker-wide, bounded so a crowd of subjects cannot flood memory and the pool. */
  private final AtomicInteger checkpointsRunning = new AtomicInteger();
  private final int maxCheckpointsRunning;
  /** Subjects with committed changes no checkpoint covers: wall-clock ms since when. */
  private final Map<String, Long> uncoveredSince = new ConcurrentHashMap<>();
  /** The latest checkpoint outcome broker-wide, for the readiness answer; see {@link #checkpointHealth()}. */
  private volatile CheckpointOutcome latestOutcome = new CheckpointOutcome(0, null);
  /** The broker is stopping: every subject the bucket is behind on is checkpointed at once, and upkeep stops. */
  private volatile boolean stopping;
  /** Completed once the bucket was asked whether it held any checkpoints when this broker started. */
  private Future<Boolean> heldCheckpointsAtStart;

  public Archive(S3Connection connection, ObjectStore objects, ArchivePolicy policy, CompactionPolicy compaction,
                 MeterRegistry registry, TermCheck termCheck) {
    this.connection = connection;
    this.termCheck = termCheck;
    this.objects = objects;
    this.policy = policy;
    this.compaction = compaction;
    this.maxCheckpointsRunning = 4 * connection.archiveThreads();
    this.segmentsUploaded = Counter.builder("dstream_archive_segments_uploaded")
        .description("Segment objects written by checkpoints and compaction").register(registry);
    this.manifestsWritten = Counter.builder("dstream_archive_manifests_written")
        .description("Manifests written by checkpoints").register(registry);
    this.checkpointFailures = Counter.builder("dstream_archive_checkpoint_failures")
        .description("Checkpoint attempts that failed and will be retried").register(registry);
    this.segmentReads = Counter.builder("dstream_archive_segment_reads")
        .description("Segments downloaded to serve replays older than the local hot window").register(registry);
    this.restores = Counter.builder("dstream_archive_restores")
        .description("Subjects rebuilt from their manifest on an empty local store").register(registry);
    this.compactions = Counter.builder("dstream_archive_compactions")
        .description("Merges of adjacent small segments into one").register(registry);
    this.segmentsCompacted = Counter.builder("dstream_archive_segments_compacted")
        .description("Segments downloaded by compaction and replaced by merged ones").register(registry);
    this.deletedByRetention = deletedCounter(registry, "retention");
    this.deletedByCompaction = deletedCounter(registry, "compaction");
    this.deletedAsOrphans = deletedCounter(registry, "orphan");
    this.deletedWithSubject = deletedCounter(registry, "destroyed");
    Gauge.builder("dstream_archive_checkpoint_lag_seconds", this, Archive::checkpointLagSeconds)
        .description("Age of the oldest committed change no checkpoint covers yet, over all subjects; 0 when all are")
        .register(registry);
    Gauge.builder("dstream_archive_subjects_behind", uncoveredSince, Map::size)
        .description("Subjects with committed changes no checkpoint covers yet").register(registry);
  }

  private static Counter deletedCounter(MeterRegistry registry, String reason) {
    return Counter.builder("dstream_archive_segments_deleted").tag("reason", reason)
        .description("Segment objects deleted from the bucket, by why they went").register(registry);
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

  /**
   * The broker stops: from now on a subject with changes the bucket does not hold is checkpointed at
   * its next tick, without waiting for its checkpoint interval, and no merge, sweep or eviction
   * starts (they are not needed to keep what the broker acknowledged).
   */
  public void stopping() {
    stopping = true;
  }

  boolean isStopping() {
    return stopping;
  }

  CompactionPolicy compaction() {
    return compaction;
  }

  /** Takes one of the broker-wide checkpoint slots; false (take none) if all are in use. */
  boolean tryStartCheckpoint() {
    if (checkpointsRunning.incrementAndGet() > maxCheckpointsRunning) {
      checkpointsRunning.decrementAndGet();
      return false;
    }
    return true;
  }

  /**
   * Takes a slot for a compaction or sweep step, only while at most half the slots are in use, so
   * that this upkeep never keeps a checkpoint from starting; false (take none) otherwise.
   */
  boolean tryStartUpkeep() {
    if (checkpointsRunning.incrementAndGet() > maxCheckpointsRunning / 2) {
      checkpointsRunning.decrementAndGet();
      return false;
    }
    return true;
  }

  /** Gives back a slot of {@link #tryStartCheckpoint} or {@link #tryStartUpkeep}. */
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

  /**
   * The subject's manifest as a checkpoint under {@code term} builds on, or empty if the bucket has
   * none. A single node (term 0) reads its one manifest. In cluster mode it is the manifest of the
   * highest term (a single node's counts as term 0). If that term is higher than {@code term}, it is
   * an earlier cluster's when {@link TermCheck} confirms {@code term} is current (and is still the
   * subject's latest checkpoint), else a newer leader's: then this fails with
   * {@link ArchiveFencedException}.
   */
  public Future<Optional<Manifest>> manifest(String subject, long term) {
    return connection.archive("get_manifest", () -> current(subject, term));
  }

  private Optional<Manifest> current(String subject, long term) throws Exception {
    if (term == 0) {
      return objects.get(ArchiveKeys.manifest(subject, 0)).map(Manifest::decode);
    }
    List<String> keys = unfencedManifests(subject, term);
    long newest = newestTerm(keys);
    String key = newest > 0 ? ArchiveKeys.manifest(subject, newest) : ArchiveKeys.manifest(subject, 0);
    return objects.get(key).map(Manifest::decode);
  }

  /**
   * The subject's manifest keys in cluster mode; fails with {@link ArchiveFencedException} if one is
   * of a higher term than {@code term} and {@link TermCheck} does not confirm {@code term}.
   */
  private List<String> unfencedManifests(String subject, long term) throws Exception {
    List<String> keys = objects.list(ArchiveKeys.manifestsPrefix(subject));
    long newest = newestTerm(keys);
    if (newest > term && !termCheck.confirmed(subject, term)) {
      throw new ArchiveFencedException(subject, newest, term);
    }
    return keys;
  }

  private static long newestTerm(List<String> manifestKeys) {
    long newest = 0;
    for (String key : manifestKeys) {
      newest = Math.max(newest, ArchiveKeys.manifestTerm(key));
    }
    return newest;
  }

  /** Encodes and uploads a segment under a new unique key of {@code term}. */
  public Future<Manifest.SegmentRef> upload(Segment segment, long term) {
    return connection.archive("put_segment", () -> {
      String key = ArchiveKeys.newSegment(segment.subject(), segment.firstSequence(), segment.lastSequence(), term);
      objects.put(key, segment.encode(), "application/zstd");
      segmentsUploaded.increment();
      return new Manifest.SegmentRef(key, segment.firstSequence(), segment.lastSequence(), segment.firstTimestampMs(),
          segment.lastTimestampMs(), segment.messages().size(), segment.payloadBytes());
    });
  }

  /**
   * Writes the manifest under {@code term}. The segments it no longer names are deleted only after
   * it is written ({@link #deleteDropped}), so a manifest never names a missing segment.
   *
   * <p>Cluster mode: the manifest goes to its term's own key, so it can never replace a newer term's.
   * With {@code fence} (the term's first commit, and every commit after which segments are to be
   * deleted) the subject's manifests are then listed: if a higher term's is there and
   * {@link TermCheck} does not confirm {@code term}, this commit fails with
   * {@link ArchiveFencedException} (its caller, deposed, deletes nothing); else every other term's
   * manifest is deleted (a higher one then being an earlier cluster's), so this one is the subject's.
   * Without, a deposed leader's commit only adds a manifest no reader takes. A listing costs more
   * than a read (one after every checkpoint held up the manifest reads of new subjects on the shared
   * embedded S3 server of the cluster suite), so not every checkpoint pays one.
   */
  public Future<Void> commit(Manifest next, long term, boolean fence) {
    return connection.archive("put_manifest", () -> {
      objects.put(ArchiveKeys.manifest(next.subject(), term), next.encode(), "application/json");
      manifestsWritten.increment();
      if (term > 0 && fence) {
        List<String> others = new ArrayList<>();
        for (String key : unfencedManifests(next.subject(), term)) {
          if (ArchiveKeys.manifestTerm(key) != term) {
            others.add(key);
          }
        }
        others.add(ArchiveKeys.manifest(next.subject(), 0));
        objects.delete(others);
      }
      return null;
    });
  }

  /**
   * Deletes the segments {@code previous} named and {@code next}, already in the bucket, does not:
   * below the first retained sequence ({@code compacted} false) or merged into another one.
   */
  Future<Void> deleteDropped(Manifest previous, Manifest next, boolean compacted) {
    List<String> dropped = previous.droppedIn(next);
    if (dropped.isEmpty()) {
      return Future.succeededFuture();
    }
    return connection.archive("delete_segments", () -> {
      objects.delete(dropped);
      (compacted ? deletedByCompaction : deletedByRetention).increment(dropped.size());
      return null;
    });
  }

  /** Downloads and decodes a segment's messages to serve a replay. */
  public Future<List<StoredMessage>> read(Manifest.SegmentRef ref) {
    return download(ref).onSuccess(messages -> segmentReads.increment());
  }

  private Future<List<StoredMessage>> download(Manifest.SegmentRef ref) {
    return connection.archive("get_segment", () -> {
      byte[] bytes = objects.get(ref.key()).orElseThrow(() -> new MissingSegmentException(ref));
      return Segment.decode(bytes).messages();
    });
  }

  /**
   * Downloads {@code run} (adjacent segments of a manifest) one by one and uploads their messages
   * from {@code firstSequence} on (the earlier ones are deleted) as one new segment.
   */
  Future<Manifest.SegmentRef> merge(String subject, List<Manifest.SegmentRef> run, long firstSequence, long term) {
    List<StoredMessage> merged = new ArrayList<>();
    Future<Void> downloaded = Future.succeededFuture();
    for (Manifest.SegmentRef ref : run) {
      downloaded = downloaded.compose(ignored -> download(ref)).map(messages -> {
        segmentsCompacted.increment();
        for (StoredMessage message : messages) {
          if (message.sequence() >= firstSequence) {
            merged.add(message);
          }
        }
        return null;
      });
    }
    return downloaded.compose(ignored -> upload(new Segment(subject, merged), term))
        .onSuccess(ref -> compactions.increment());
  }

  /**
   * Whether the subject may hold orphans from before this broker started: its manifest was last
   * written before (a crash may have followed) and the bucket held checkpoints at start.
   */
  boolean mayHoldOrphans(Manifest manifest) {
    Future<Boolean> held = heldCheckpointsAtStart;
    boolean heldNone = held != null && held.succeeded() && !held.result();
    return !heldNone && manifest.checkpointedAt() < startedAtMs;
  }

  /**
   * One step of a subject's orphan sweep: lists up to {@code maxKeys} of its segment keys after
   * {@code startAfter} and deletes those named neither by {@code known} (the subject's manifest as
   * its archive knows it) nor by the manifest in the bucket (read after the listing, so it names
   * every listed segment a finished checkpoint named, even one whose answer was lost). The caller
   * runs no checkpoint or merge of the subject meanwhile, so no listed segment is about to be named.
   * In cluster mode a newer term's manifest fences the sweep, and segments of a newer term (which
   * its leader may be about to name) are never orphans.
   *
   * @return the last key listed, or {@code null} if the listing ended
   */
  Future<String> sweep(Manifest known, String startAfter, int maxKeys, long term) {
    String subject = known.subject();
    return connection.archive("sweep_segments", () -> {
      List<String> keys = objects.list(ArchiveKeys.segmentsPrefix(subject), startAfter, maxKeys);
      if (keys.isEmpty()) {
        return null;
      }
      Optional<Manifest> stored = current(subject, term);
      List<String> orphans = new ArrayList<>();
      for (String key : keys) {
        if (ArchiveKeys.segmentTerm(key) <= term && !known.names(key)
            && stored.map(manifest -> !manifest.names(key)).orElse(true)) {
          orphans.add(key);
        }
      }
      objects.delete(orphans);
      deletedAsOrphans.increment(orphans.size());
      return keys.size() < maxKeys ? null : keys.get(keys.size() - 1);
    });
  }

  /**
   * Deletes every checkpoint of the subject (its manifests first, so a crash half-way leaves no
   * manifest naming deleted segments). Called when a subject is destroyed.
   */
  public Future<Void> destroy(String subject) {
    return connection.archive("delete_checkpoints", () -> {
      List<String> manifests = new ArrayList<>(objects.list(ArchiveKeys.manifestsPrefix(subject)));
      manifests.add(ArchiveKeys.manifest(subject, 0));
      objects.delete(manifests);
      List<String> segments = objects.list(ArchiveKeys.subjectPrefix(subject));
      objects.delete(segments);
      deletedWithSubject.increment(segments.size());
      return null;
    });
  }
}
