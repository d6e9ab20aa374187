package io.dstream.broker.stream;

import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.retention.Discard;
import io.dstream.broker.retention.EffectiveLimits;
import io.dstream.broker.retention.Limits;
import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.SubjectRecord;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.LongFunction;

/**
 * The writes of one {@link SubjectStep}, assigned on the {@link WritePipeline} as they are made
 * (so the step and the steps after it see them) and queued together when the step returns. A step
 * that throws is undone: its sequences, version, attributes, tail-cache entries and dedup keys are
 * forgotten, and nothing reaches the writer.
 *
 * <p>Retention limits ({@link EffectiveLimits}) are applied here, on the one append path: a message
 * over the size limit, or one that a full subject with discard new cannot take, makes the step
 * throw (so none of its writes is stored); a subject over its message count with discard old gets
 * the deletion of its oldest messages in the same batch as the appends that pushed it over.
 *
 * <p>Threading: lives for one step on the actor's context.
 */
final class Transaction implements SubjectTransaction {

  private final String subject;
  private final EffectiveLimits limits;
  private final WritePipeline pipeline;
  private final DedupWindow dedup;
  private final LogReader log;
  private final BrokerMetrics metrics;
  private final StateWatchers watchers;
  private final List<StoreWrite> writes = new ArrayList<>();
  private final long sequenceBefore;
  private final long versionBefore;
  private final long revisionBefore;
  private final byte[] attributesBefore;
  private final int attributeWritesBefore;
  private final long bytesBefore;
  private final long deletedUpToBefore;
  private int appended;
  /** The last state this step put, announced to the watchers once it is durable; null if none. */
  private byte[] putState;
  private long putRevision;

  Transaction(String subject, EffectiveLimits limits, WritePipeline pipeline, DedupWindow dedup, LogReader log,
              BrokerMetrics metrics, StateWatchers watchers) {
    this.subject = subject;
    this.limits = limits;
    this.pipeline = pipeline;
    this.dedup = dedup;
    this.log = log;
    this.metrics = metrics;
    this.watchers = watchers;
    this.sequenceBefore = pipeline.lastAssigned();
    this.versionBefore = pipeline.producerVersion();
    this.revisionBefore = pipeline.assignedStateRevision();
    this.attributesBefore = pipeline.queuedAttributes();
    this.attributeWritesBefore = pipeline.queuedAttributeWrites();
    this.bytesBefore = pipeline.queuedBytes();
    this.deletedUpToBefore = pipeline.deletedUpTo();
  }

  /** Runs {@code step} and queues its writes; {@code onDone} gets its result once they are durable. */
  <T> void run(SubjectStep<T> step, BiConsumer<T, Throwable> onDone) {
    T result;
    try {
      result = step.apply(this);
    } catch (RuntimeException e) {
      undo();
      onDone.accept(null, e);
      return;
    }
    trimToMessageLimit();
    int count = appended;
    byte[] state = putState;
    long revision = putRevision;
    pipeline.queue(writes, new WritePipeline.Completion() {
      @Override
      public void succeeded() {
        if (count > 0) {
          metrics.published.increment(count);
        }
        if (state != null) {
          watchers.changed(state, revision);
        }
        onDone.accept(result, null);
      }

      @Override
      public void failed(Throwable failure) {
        if (count > 0) {
          metrics.publishFailed.increment(count);
        }
        onDone.accept(null, failure);
      }
    });
  }

  /**
   * Discard old with a message count: the oldest messages beyond it go in the same batch, as
   * JetStream trims on insert, so the count never exceeds the limit once the batch is durable.
   */
  private void trimToMessageLimit() {
    Limits bounds = limits.limits();
    if (appended == 0 || bounds.maxMessages() == 0 || bounds.discard() != Discard.OLD) {
      return;
    }
    long excess = pipeline.assignedMessages() - bounds.maxMessages();
    if (excess > 0) {
      deleteUpTo(pipeline.assignedFirstSequence() + excess - 1);
    }
  }

  private void undo() {
    pipeline.unassign(sequenceBefore, versionBefore, revisionBefore, attributesBefore, attributeWritesBefore,
        bytesBefore, deletedUpToBefore);
    log.forgetAfter(sequenceBefore);
    dedup.forgetAfter(sequenceBefore);
  }

  @Override
  public long lastSequence() {
    return pipeline.lastAssigned();
  }

  @Override
  public long producerVersion() {
    return pipeline.producerVersion();
  }

  @Override
  public byte[] attributes() {
    return pipeline.assignedAttributes();
  }

  @Override
  public String lastDedupKey() {
    return dedup.keyOfNewest(lastSequence());
  }

  @Override
  public long append(byte[] payload) {
    return add(payload, pipeline.assignSequence()).sequence();
  }

  @Override
  public Published append(LongFunction<byte[]> render) {
    long sequence = pipeline.assignSequence();
    return add(render.apply(sequence), sequence);
  }

  @Override
  public Published appendOnce(String dedupKey, LongFunction<byte[]> render) {
    if (dedupKey == null) {
      return append(render);
    }
    long nowMs = pipeline.assignTimestamp();
    DedupWindow.Entry original = dedup.find(dedupKey, nowMs);
    if (original != null) {
      metrics.publishDuplicates.increment();
      return new Published(original.sequence(), original.timestampMs(), render.apply(original.sequence()), true);
    }
    Published published = append(render);
    dedup.remember(dedupKey, published.sequence(), published.timestampMs());
    return published;
  }

  private Published add(byte[] payload, long sequence) {
    EffectiveLimits.Refusal refusal = limits.refusal(subject, pipeline.assignedMessages(),
        pipeline.assignedBytes() + payload.length, payload.length);
    if (refusal != null) {
      throw refusal.reason() == EffectiveLimits.Refusal.Reason.MESSAGE_SIZE ? StreamError.tooLarge(refusal.message())
          : StreamError.limitReached(refusal.message());
    }
    pipeline.assignBytes(payload.length);
    long timestamp = pipeline.assignTimestamp();
    writes.add(new StoreWrite.Append(sequence, timestamp, payload));
    log.appended(new CachedMessage(sequence, timestamp, payload));
    appended++;
    return new Published(sequence, timestamp, payload);
  }

  @Override
  public void fence(long version) {
    long current = pipeline.producerVersion();
    if (version < current) {
      metrics.fencedWrites.increment();
      throw StreamError.fenced(current, version);
    }
    if (version > current) {
      pipeline.assignProducerVersion(version);
      writes.add(new StoreWrite.PutView(SubjectRecord.RECORDS_VIEW, SubjectRecord.longView(version)));
    }
  }

  @Override
  public void putAttributes(byte[] newAttributes) {
    pipeline.assignAttributes(newAttributes);
    writes.add(new StoreWrite.PutView(SubjectRecord.DURABLE_STREAMS_VIEW, newAttributes));
  }

  @Override
  public long stateRevision() {
    return pipeline.assignedStateRevision();
  }

  @Override
  public long putState(byte[] stateJson) {
    return putState(stateJson, ANY_REVISION);
  }

  @Override
  public long putState(byte[] stateJson, long expectedRevision) {
    long current = pipeline.assignedStateRevision();
    if (expectedRevision != ANY_REVISION && expectedRevision != current) {
      metrics.stateConflicts.increment();
      throw StreamError.wrongRevision(expectedRevision, current);
    }
    long revision = pipeline.assignStateRevision();
    writes.add(new StoreWrite.PutState(stateJson, revision));
    putState = stateJson;
    putRevision = revision;
    return revision;
  }

  @Override
  public void deleteUpTo(long upTo) {
    long capped = Math.min(upTo, pipeline.lastAssigned());
    pipeline.assignDeletion(capped);
    writes.add(new StoreWrite.DeleteUpTo(capped));
  }
}
