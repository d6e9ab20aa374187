package io.dstream.broker.archive;

import io.dstream.broker.store.StoredMessage;
import io.vertx.core.AsyncResult;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * One subject's link to the archive: its last known manifest, the checkpoint schedule with retry
 * and backoff, hot-window eviction requests, the upkeep of its segments (merging small ones, see
 * {@link Compaction}, and sweeping orphans), and reads of messages that live only in segments
 * ({@link SegmentReader}).
 *
 * <p>Threading: owned by one stream actor; every method is called on the actor's context and every
 * future it returns completes there, so its fields need no lock. Uploads run on the archive pool.
 *
 * <p>What is checkpointed is recomputed from the manifest in the bucket (fetched when the actor
 * loads), not tracked locally: a message is checkpointed once a manifest's {@code lastSequence}
 * covers it. While the manifest cannot be fetched the subject is not checkpointed and nothing is
 * evicted; the actor stays in memory until it is.
 *
 * <p>Checkpoint lag is tracked at each tick (so to within one tick interval) and when a checkpoint
 * ends, and reported to {@link Archive} only when it starts or ends: from the first tick that sees
 * a change the manifest does not cover until a checkpoint covers everything. After a checkpoint
 * that covered its whole snapshot, what is left changed after that checkpoint started; after one
 * that fell behind, the earlier start stays (an upper bound). While the manifest is unknown, only
 * messages committed since the subject loaded count. A subject whose checkpoints are off, or which
 * is destroyed, counts as not lagging. A tick compares the snapshot with the manifest once, for
 * the lag and the checkpoint decision alike, and not at all while a lagging subject waits for its
 * checkpoint or retry.
 *
 * <p>One bucket operation of the subject runs at a time ({@code busy}): a checkpoint, a merge, a
 * sweep step, a manifest read or the deletion of a destroyed subject's checkpoints. So a merge never
 * races a checkpoint for the manifest, and a sweep never sees a segment a checkpoint is about to
 * name. Upkeep runs only when no checkpoint is due, one bounded step per tick.
 */
public final class SubjectArchive {

  private static final Logger LOG = LoggerFactory.getLogger(SubjectArchive.class);
  /** Segment bounds: what one replay read downloads and decodes at most. */
  static final int SEGMENT_MAX_MESSAGES = 10_000;
  static final long SEGMENT_MAX_BYTES = 8L * 1024 * 1024;
  /** Segments per checkpoint; a subject further behind continues at the next tick. */
  static final int MAX_SEGMENTS_PER_CHECKPOINT = 8;
  /**
   * Count and byte bounds are enforced after each checkpoint; the age bound also without one, this
   * often (each eviction is a write with its own commit, so not at every tick).
   */
  static final long AGE_EVICTION_PERIOD_MS = 60_000;

  private final String subject;
  private final Archive archive;
  /** The Raft term of the leadership this archive checkpoints under; 0 on a single node. */
  private final long term;
  /** Cluster mode: a newer term's manifest is in the bucket; this archive writes nothing more. */
  private boolean fenced;
  /** Cluster mode: a manifest was committed under {@link #term}, so none of an older term can be newer than ours. */
  private boolean committedUnderTerm;
  private ArchiveHost host;
  private boolean opened;
  private Manifest manifest;
  private boolean disabled;
  private boolean unverified;
  private boolean busy;
  private boolean behind;
  private int failures;
  private long nextAttemptMs;
  private long lastCheckpointMs;
  private long lastEvictionMs;
  private boolean evictionDue;
  private final SnapshotComparison comparison = new SnapshotComparison();
  /** Incremented when the subject is destroyed: work started before belongs to the old subject. */
  private int generation;
  private boolean destroyPending;
  private final SegmentReader segments;
  private final Compaction compaction;
  /** The manifest in which {@link #compaction} found nothing to merge (asked again once it changes). */
  private Manifest nothingToMerge;
  /** Whether segment keys may exist that no manifest names (see {@link Archive#sweep}). */
  private boolean sweepDue;
  /** The last key the sweep under way listed; null: it starts from the first. */
  private String sweptUpTo;
  /** Wall-clock ms since which committed changes are not covered by a checkpoint; 0 if none are. */
  private long uncoveredSinceMs;
  /** The local last sequence when the subject loaded: while the manifest is unknown, later ones are uncovered. */
  private long openedLastSequence;
  /** Completes when the manifest fetch in progress ends (either way); null when none is. */
  private Promise<Void> manifestFetch;

  public SubjectArchive(String subject, Archive archive, ArchiveHost host, long nowMs, long term) {
    this.subject = subject;
    this.archive = archive;
    this.term = term;
    this.host = host;
    this.lastCheckpointMs = nowMs;
    this.lastEvictionMs = nowMs;
    this.segments = new SegmentReader(archive, () -> manifest);
    this.compaction = new Compaction(archive.compaction());
  }

  /**
   * Fetches the manifest when the actor loads. Completes with the manifest to restore from when the
   * local store knows nothing of the subject but the bucket does, else with {@code null}. Only an
   * empty subject waits for the bucket; for any other the manifest is read in the background.
   *
   * <p>If the bucket cannot be asked the subject starts from what the local store has, so streams
   * keep working while S3 is down. A subject that starts empty this way is unverified: if the bucket
   * later turns out to hold checkpoints of it, its checkpoints are switched off (and an error
   * logged) rather than overwrite that history with a different one.
   */
  public Future<Manifest> open(long localLastSequence, byte[] localState) {
    if (opened) {
      // A detached archive taken back by a new actor: it knows (or is fetching) the manifest.
      return Future.succeededFuture();
    }
    opened = true;
    openedLastSequence = localLastSequence;
    // A link of this subject lost with its actor (a failed load) may have left its lag behind.
    archive.covered(subject);
    boolean localEmpty = localLastSequence == 0 && Manifest.EMPTY_STATE.equals(Manifest.normalizeState(localState));
    if (!localEmpty) {
      // Nothing to restore: the load does not wait for the bucket, the manifest arrives meanwhile.
      fetchManifest(localLastSequence, 0);
      return Future.succeededFuture();
    }
    return archive.heldCheckpointsAtStart().transform(held -> {
      if (held.succeeded() && !held.result()) {
        manifest = Manifest.empty(subject);
        return Future.succeededFuture(Optional.<Manifest>empty());
      }
      return archive.manifest(subject, term);
    }).transform(ar -> {
      if (ar.failed() && ar.cause() instanceof ArchiveFencedException) {
        fenced(ar.cause());
        return Future.failedFuture(ar.cause());
      }
      if (ar.failed()) {
        unverified = true;
        LOG.warn("subject '{}': manifest not readable ({}); it starts empty and is not restored from the bucket",
            subject, ar.cause().toString());
        return Future.succeededFuture();
      }
      manifest = ar.result().orElse(Manifest.empty(subject));
      sweepDue = archive.mayHoldOrphans(manifest);
      if (manifest.hasContent()) {
        archive.restores.increment();
        return Future.succeededFuture(manifest);
      }
      return Future.succeededFuture();
    });
  }

  /**
   * Hands the archive to another host: a new actor for the subject, or, while the subject
   * hibernates with checkpoint work left, a {@link ArchiveHost#detached} host the shard ticks.
   */
  public void host(ArchiveHost newHost) {
    host = newHost;
    segments.clear();
  }

  /** The term this archive checkpoints under (0: a single node). */
  public long term() {
    return term;
  }

  /** True once the manifest was read from the bucket. */
  public boolean manifestKnown() {
    return manifest != null;
  }

  /** Sequences up to this are in segments ({@code 0} while unknown). */
  public long checkpointedUpTo() {
    return manifest == null ? 0 : manifest.lastSequence();
  }

  /** True when nothing needs the actor in memory for the archive's sake. */
  public boolean idle() {
    if (busy || destroyPending) {
      return false;
    }
    return disabled || fenced || manifest != null && !comparison.changed(host.snapshot(), manifest) && !sweepDue
        && mergeRun().isEmpty();
  }

  /** Starts a checkpoint or an eviction when one is due. */
  public void tick(long nowMs) {
    segments.tick();
    if (disabled || fenced) {
      caughtUp();
      return;
    }
    boolean waiting = busy || nowMs < nextAttemptMs;
    if (destroyPending) {
      caughtUp();
      if (!waiting) {
        deleteCheckpoints(nowMs);
      }
      return;
    }
    ArchiveHost.Snapshot snapshot = host.snapshot();
    if (manifest == null) {
      if (snapshot.lastSequence() > openedLastSequence) {
        lagging(nowMs);
      }
      if (!waiting) {
        fetchManifest(snapshot.lastSequence(), nowMs);
      }
      return;
    }
    if (waiting && uncoveredSinceMs != 0) {
      // Already counted as lagging; only a checkpoint's end can change that, and none starts now.
      return;
    }
    boolean changed = comparison.changed(snapshot, manifest);
    if (changed) {
      lagging(nowMs);
    } else {
      caughtUp();
    }
    if (waiting) {
      return;
    }
    long interval = archive.policy().checkpointInterval().toMillis();
    if (changed && (behind || archive.isStopping() || nowMs - lastCheckpointMs >= interval)) {
      checkpoint(snapshot, nowMs);
      return;
    }
    if (archive.isStopping()) {
      return;
    }
    boolean ageDue = nowMs - lastEvictionMs >= Math.min(AGE_EVICTION_PERIOD_MS, archive.policy().hotAge().toMillis());
    if ((evictionDue || ageDue) && manifest.lastSequence() >= snapshot.firstSequence()) {
      evictionDue = false;
      lastEvictionMs = nowMs;
      host.evict(manifest.lastSequence());
    }
    List<Manifest.SegmentRef> run = mergeRun();
    if (!run.isEmpty()) {
      merge(run, nowMs);
    } else if (sweepDue) {
      sweepStep(nowMs);
    }
  }

  /**
   * The subject was destroyed: its checkpoints go too (after any upload that was under way, which
   * belongs to the old subject), retried like checkpoints while the bucket is unreachable.
   */
  public void destroyed() {
    generation++;
    manifest = Manifest.empty(subject);
    disabled = false;
    unverified = false;
    behind = false;
    segments.clear();
    sweepDue = false;
    failures = 0;
    nextAttemptMs = 0;
    destroyPending = true;
    caughtUp();
  }

  /** Uncovered changes exist since {@code sinceMs}, unless an earlier start is already known. */
  private void lagging(long sinceMs) {
    if (uncoveredSinceMs == 0) {
      uncoveredSinceMs = sinceMs;
      archive.uncovered(subject, sinceMs);
    }
  }

  private void caughtUp() {
    if (uncoveredSinceMs != 0) {
      uncoveredSinceMs = 0;
      archive.covered(subject);
    }
  }

  private void deleteCheckpoints(long nowMs) {
    busy = true;
    int destroyedGeneration = generation;
    archive.destroy(subject).onComplete(ar -> {
      busy = false;
      if (destroyedGeneration != generation) {
        return;
      }
      if (ar.failed()) {
        failed(nowMs, ar.cause());
        return;
      }
      destroyPending = false;
      failures = 0;
      lastCheckpointMs = nowMs;
    });
  }

  /**
   * Reads the manifest in the background. A subject that started empty while the bucket was
   * unreachable, or whose local store ends before the manifest, gets its checkpoints switched off
   * rather than overwrite the bucket's history with a different one.
   */
  private void fetchManifest(long localLastSequence, long nowMs) {
    busy = true;
    Promise<Void> fetched = Promise.promise();
    manifestFetch = fetched;
    int startedGeneration = generation;
    archive.manifest(subject, term).onComplete(ar -> {
      busy = false;
      manifestFetch = null;
      if (startedGeneration == generation) {
        manifestFetched(ar, localLastSequence, nowMs);
      }
      // The reads that waited for it go on (or fail) once its outcome is recorded.
      fetched.complete();
    });
  }

  private void manifestFetched(AsyncResult<Optional<Manifest>> ar, long localLastSequence, long nowMs) {
    if (ar.failed() && ar.cause() instanceof ArchiveFencedException) {
      fenced(ar.cause());
      return;
    }
    if (ar.failed()) {
      failed(nowMs, ar.cause());
      return;
    }
    manifest = ar.result().orElse(Manifest.empty(subject));
    failures = 0;
    sweepDue = archive.mayHoldOrphans(manifest);
    if (unverified && manifest.hasContent()) {
      disabled = true;
      LOG.error("subject '{}' started empty while the bucket was unreachable, but the bucket holds checkpoints of it "
          + "up to sequence {}; its checkpoints are off so that history is not overwritten", subject,
          manifest.lastSequence());
    } else if (localLastSequence < manifest.lastSequence()) {
      disabled = true;
      LOG.error("subject '{}': the local store ends at sequence {} but the bucket's manifest at {}; "
          + "checkpoints of this subject are off so the bucket is not overwritten", subject, localLastSequence,
          manifest.lastSequence());
    }
  }

  private void checkpoint(ArchiveHost.Snapshot snapshot, long nowMs) {
    if (!archive.tryStartCheckpoint()) {
      return;
    }
    Manifest[] base = {manifest};
    inSlot(() -> base().compose(previous -> {
      base[0] = previous;
      long from = Math.max(previous.lastSequence() + 1, snapshot.firstSequence());
      return uploadSegments(from, snapshot.lastSequence(), new ArrayList<>()).compose(added -> {
        long covered = added.isEmpty() ? Math.max(previous.lastSequence(), Math.min(snapshot.lastSequence(), from - 1))
            : added.get(added.size() - 1).lastSequence();
        Manifest next = previous.next(snapshot.firstSequence(), covered,
            new String(snapshot.state(), StandardCharsets.UTF_8), snapshot.stateRevision(), snapshot.producerVersion(),
            Math.max(previous.lastTimestamp(), snapshot.lastTimestampMs()), snapshot.attributes(), nowMs, added);
        return archive.commit(next, term, !committedUnderTerm || !previous.droppedIn(next).isEmpty()).map(next);
      });
    }), ar -> {
      Manifest previous = base[0];
      if (ar.failed()) {
        // Segments it uploaded (or a manifest whose answer was lost named) stay behind.
        requestSweep();
        failed(nowMs, ar.cause());
        return;
      }
      committedUnderTerm = true;
      deleteDropped(previous, ar.result(), false);
      if (failures > 0) {
        LOG.info("subject '{}': checkpoints caught up after {} failed attempts", subject, failures);
      }
      manifest = ar.result();
      failures = 0;
      lastCheckpointMs = nowMs;
      archive.checkpointSucceeded(nowMs);
      behind = manifest.lastSequence() < snapshot.lastSequence();
      evictionDue = true;
      if (!comparison.changed(host.snapshot(), manifest)) {
        caughtUp();
      } else if (!behind) {
        // Everything up to the snapshot is covered: what is left changed after this checkpoint began.
        uncoveredSinceMs = 0;
        lagging(nowMs);
      }
    });
  }

  /**
   * The manifest a checkpoint builds on. Cluster mode: before this term's first commit it is read
   * again, as a deposed leader may have written one of the older term since this archive fetched it,
   * and building on the older one would drop what that one named.
   */
  private Future<Manifest> base() {
    if (term == 0 || committedUnderTerm) {
      return Future.succeededFuture(manifest);
    }
    return archive.manifest(subject, term).map(current -> {
      manifest = current.orElse(Manifest.empty(subject));
      return manifest;
    });
  }

  /** A newer leader checkpoints the subject: this archive stops, and its actor is deposed in a moment. */
  private void fenced(Throwable cause) {
    fenced = true;
    caughtUp();
    LOG.info("subject '{}': {}", subject, cause.getMessage());
  }

  /**
   * Runs one bucket operation that holds a slot of the archive (a checkpoint, a merge, a sweep
   * step): the subject is busy until it ends, then the slot goes back, and {@code then} gets the
   * result unless the subject was destroyed or handed over meanwhile (its generation moved), or the
   * bucket showed a newer leader's term (the archive stops).
   */
  private <T> void inSlot(Supplier<Future<T>> operation, Handler<AsyncResult<T>> then) {
    busy = true;
    int startedGeneration = generation;
    operation.get().onComplete(ar -> {
      busy = false;
      archive.checkpointEnded();
      if (ar.failed() && ar.cause() instanceof ArchiveFencedException) {
        fenced(ar.cause());
      } else if (startedGeneration == generation) {
        then.handle(ar);
      }
    });
  }

  /** Uploads segments of local messages {@code from..to}, at most {@link #MAX_SEGMENTS_PER_CHECKPOINT}. */
  private Future<List<Manifest.SegmentRef>> uploadSegments(long from, long to, List<Manifest.SegmentRef> added) {
    if (from > to || added.size() >= MAX_SEGMENTS_PER_CHECKPOINT) {
      return Future.succeededFuture(added);
    }
    return host.readLocal(from, SEGMENT_MAX_MESSAGES, SEGMENT_MAX_BYTES).compose(read -> {
      List<StoredMessage> messages = new ArrayList<>(read.size());
      for (StoredMessage message : read) {
        if (message.sequence() > to) {
          break;
        }
        messages.add(message);
      }
      if (messages.isEmpty()) {
        return Future.succeededFuture(added);
      }
      if (messages.get(0).sequence() != from && from >= host.snapshot().firstSequence()) {
        return Future.failedFuture(new IllegalStateException("local store of '" + subject + "' lacks sequence " + from
            + " which is not checkpointed yet"));
      }
      return archive.upload(new Segment(subject, messages), term).compose(ref -> {
        added.add(ref);
        return uploadSegments(ref.lastSequence() + 1, to, added);
      });
    });
  }

  /** Deletes the segments {@code previous} named and {@code next} (written) does not; a failure leaves them to a sweep. */
  private void deleteDropped(Manifest previous, Manifest next, boolean compacted) {
    int startedGeneration = generation;
    archive.deleteDropped(previous, next, compacted).onFailure(failure -> {
      LOG.warn("subject '{}': deleting segments the manifest no longer names failed ({}); a sweep collects them",
          subject, failure.toString());
      if (startedGeneration == generation) {
        requestSweep();
      }
    });
  }

  private void requestSweep() {
    sweepDue = true;
    sweptUpTo = null;
  }

  /** The adjacent segments to merge now, or none (also while the manifest is unknown). */
  private List<Manifest.SegmentRef> mergeRun() {
    // Cluster mode: a merge builds on the manifest too, so it waits for this term's first checkpoint.
    if (manifest == null || manifest == nothingToMerge || term > 0 && !committedUnderTerm) {
      return List.of();
    }
    List<Manifest.SegmentRef> run = compaction.nextRun(manifest);
    if (run.isEmpty()) {
      nothingToMerge = manifest;
    }
    return run;
  }

  /**
   * Merges {@code run} into one segment, writes the manifest naming it instead, then deletes the
   * run. The manifest's other fields stay those of the last checkpoint.
   */
  private void merge(List<Manifest.SegmentRef> run, long nowMs) {
    if (!archive.tryStartUpkeep()) {
      return;
    }
    Manifest previous = manifest;
    inSlot(() -> archive.merge(subject, run, previous.firstSequence(), term).compose(merged -> {
      Manifest next = previous.replacing(run, merged);
      return archive.commit(next, term, true).map(next);
    }), ar -> {
      if (ar.failed()) {
        requestSweep();
        upkeepFailed(nowMs, "merging " + run.size() + " segments", ar.cause());
        return;
      }
      manifest = ar.result();
      failures = 0;
      deleteDropped(previous, manifest, true);
    });
  }

  /** Lists one page of the subject's segment keys and deletes the orphans in it. */
  private void sweepStep(long nowMs) {
    if (!archive.tryStartUpkeep()) {
      return;
    }
    inSlot(() -> archive.sweep(manifest, sweptUpTo, archive.compaction().sweepKeys(), term), ar -> {
      if (ar.failed()) {
        upkeepFailed(nowMs, "sweeping orphan segments", ar.cause());
        return;
      }
      failures = 0;
      sweptUpTo = ar.result();
      sweepDue = sweptUpTo != null;
    });
  }

  /** A merge or sweep failed: retried with the checkpoints' backoff, without counting as a failed checkpoint. */
  private void upkeepFailed(long nowMs, String what, Throwable cause) {
    if (failures == 0) {
      LOG.warn("subject '{}': {} failed ({}); retrying with backoff", subject, what, cause.toString());
    }
    nextAttemptMs = nowMs + archive.policy().retryDelayMs(failures);
    failures++;
  }

  private void failed(long nowMs, Throwable cause) {
    archive.checkpointFailed(nowMs, cause);
    long delay = archive.policy().retryDelayMs(failures);
    if (failures == 0) {
      LOG.warn("subject '{}': the bucket failed ({}); checkpoints retry with backoff up to {} ms", subject, cause.toString(),
          archive.policy().retryMax().toMillis());
    }
    failures++;
    nextAttemptMs = nowMs + delay;
  }

  private <T> Future<T> unavailable() {
    return Future.failedFuture(new ArchiveUnavailableException("the bucket holding older messages of '" + subject
        + "' cannot be read right now; retry later", null));
  }

  /**
   * The first message at or after {@code timestampMs} with sequence {@code >= firstSequence}, looked
   * up in the segments, or {@code local} (the local store's answer, 0 = none) when the segments have
   * no such message or the manifest is unknown; see {@link SegmentReader#firstSequenceAt}.
   */
  public Future<Long> firstSequenceAt(long timestampMs, long firstSequence, long local) {
    return manifest == null ? Future.succeededFuture(local) : segments.firstSequenceAt(timestampMs, firstSequence, local);
  }

  /**
   * Messages from {@code from} (inclusive) out of the segment holding it, at most {@code maxMessages};
   * empty if no segment holds it. See {@link SegmentReader#read}.
   */
  public Future<List<StoredMessage>> read(long from, int maxMessages) {
    if (manifest == null) {
      // Right after a restart the manifest is still on its way: the read waits for it rather than fail.
      if (manifestFetch != null) {
        return manifestFetch.future().compose(fetched -> manifest == null ? unavailable() : read(from, maxMessages));
      }
      return unavailable();
    }
    return segments.read(from, maxMessages);
  }
}
