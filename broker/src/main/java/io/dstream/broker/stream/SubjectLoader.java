package io.dstream.broker.stream;

import io.dstream.broker.archive.Manifest;
import io.dstream.broker.archive.SubjectArchive;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.WriteBatch;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Brings a subject into memory for a new actor, off the event loop: its record from the store; if
 * the local store is empty and the bucket has a checkpoint, the record rebuilt from that manifest;
 * and the dedup keys of the publishes still inside the dedup window, read from the stored tail (the
 * window itself is never persisted: every stored object carries its key).
 *
 * <p>Threading: stateless; the returned future completes on the actor's context.
 */
final class SubjectLoader {

  private static final Logger LOG = LoggerFactory.getLogger(SubjectLoader.class);

  /** What a load found: the record and the dedup window's tail. */
  record Loaded(SubjectRecord record, List<RecentKey> recentKeys) {
  }

  /** A stored publish's dedup key. */
  record RecentKey(String key, long sequence, long timestampMs) {
  }

  private final String subject;
  private final Context context;
  private final StreamEnvironment env;

  SubjectLoader(String subject, Context context, StreamEnvironment env) {
    this.subject = subject;
    this.context = context;
    this.env = env;
  }

  Future<Loaded> load(SubjectArchive archive, DedupWindow dedup) {
    long nowMs = env.clock().millis();
    return env.readers().executeBlocking(this::existingRecord, false)
        .compose(record -> archive.open(record.lastSequence(), record.state())
            .compose(manifest -> manifest == null ? Future.succeededFuture(record) : restore(manifest)))
        .compose(record -> env.readers().executeBlocking(() -> new Loaded(record, recentKeys(record, dedup, nowMs)),
            false));
  }

  /**
   * The subject's applied record, or an absent one (id 0) that the first write replaces: reads
   * never create a subject, only writes do, so readers cannot grow the store.
   */
  private SubjectRecord existingRecord() {
    SubjectRecord record = env.store().find(subject);
    return record == null ? SubjectRecord.absent() : record;
  }

  /**
   * The keys of the publishes still inside the dedup window, read from the local store (found by
   * time, at most {@code dedupMaxEntries}, page by page so large messages never pile up). Messages
   * only in the bucket are older than the hot window and, in practice, than the dedup window.
   */
  private List<RecentKey> recentKeys(SubjectRecord record, DedupWindow dedup, long nowMs) {
    List<RecentKey> keys = new ArrayList<>();
    long last = record.lastSequence();
    long recent = record.firstSequence() > last ? 0
        : env.store().firstSequenceAtOrAfter(record.id(), dedup.horizon(nowMs));
    if (recent == 0) {
      return keys;
    }
    long from = Math.max(recent, last - dedup.maxEntries() + 1);
    while (from <= last) {
      List<StoredMessage> page = env.store().read(record.id(), from, LogReader.PAGE_MESSAGES, LogReader.PAGE_BYTES);
      if (page.isEmpty()) {
        break;
      }
      for (StoredMessage message : page) {
        String key = message.sequence() <= last ? StoredObject.dedupKey(message.payload()) : null;
        if (key != null) {
          keys.add(new RecentKey(key, message.sequence(), message.timestampMs()));
        }
      }
      from = page.get(page.size() - 1).sequence() + 1;
    }
    return keys;
  }

  /** Rebuilds the empty local subject from its manifest; its messages stay in the bucket. */
  private Future<SubjectRecord> restore(Manifest manifest) {
    Promise<SubjectRecord> restored = Promise.promise();
    Map<String, byte[]> views = new LinkedHashMap<>();
    views.put(SubjectRecord.RECORDS_VIEW, SubjectRecord.longView(manifest.producerVersion()));
    views.put(SubjectRecord.DURABLE_STREAMS_VIEW, manifest.attributes());
    views.values().removeIf(data -> data.length == 0);
    StoreWrite write = new StoreWrite.Restore(manifest.firstSequence(), manifest.lastSequence(),
        manifest.lastTimestamp(), manifest.state().getBytes(StandardCharsets.UTF_8), manifest.stateRevision(), views);
    WriteBatch batch = new WriteBatch(subject, List.of(write), context, (record, failure) -> {
      if (failure != null) {
        restored.fail(failure);
        return;
      }
      LOG.info("subject '{}' restored from the bucket: sequences {}..{}", subject, record.firstSequence(),
          record.lastSequence());
      restored.complete(record);
    });
    if (!env.writer().submit(batch)) {
      restored.fail(StreamError.overloaded("broker overloaded: the write queue is full, retry later"));
    }
    return restored.future();
  }
}
