package io.dstream.broker.stream;

import io.dstream.broker.store.StoreWrite;
import io.dstream.broker.store.SubjectRecord;
import io.dstream.broker.store.WriteBatch;
import io.vertx.core.Context;

import java.util.ArrayList;
import java.util.List;

/**
 * The write side of one subject: the numbers as assigned (sequence, producer version, publish time,
 * queued attributes) next to the numbers as durable (the subject's record after the last commit),
 * the batch being collected and the one batch at the group-commit writer.
 *
 * <p>Rules. At most one {@link WriteBatch} per subject is at the writer; what is queued meanwhile is
 * collected and sent as the next batch when the first completes, so under load batches grow by
 * themselves and when idle a write waits for exactly one commit. Completions run in queue order,
 * only after the commit holding their writes returned. A failed batch takes every later write with
 * it: their sequences follow the failed ones, so every assigned number is rewound to the durable one
 * and their completions fail; no sequence is ever skipped or reused.
 *
 * <p>Publish times are non-decreasing per subject (a clock that steps back repeats the last time),
 * so a point in time maps to a sequence by binary search.
 *
 * <p>Threading: not thread-safe. Owned by one {@link StreamActor} and used on its context only; the
 * writer's completion arrives on that context too ({@link WriteBatch#context()}).
 */
final class WritePipeline {

  /** A write's reply, run after its batch committed or failed. */
  interface Completion {
    void succeeded();

    void failed(Throwable failure);
  }

  /** What the actor does when numbers move: after a durable batch, and after a rewind. */
  interface Listener {
    /** Runs after a batch became durable and its completions ran. */
    void durable();

    /** Runs after a failed batch rewound the assigned numbers to {@link #lastDurable()}. */
    void rewound();
  }

  private final String subject;
  private final Context context;
  private final StreamEnvironment env;
  private Listener listener;

  private long subjectId;
  private long firstSequence = 1;
  private long lastDurable;
  private long messages;
  private long bytes;
  private byte[] state = new byte[0];
  private long stateRevision;
  private byte[] attributes = new byte[0];
  private long durableProducerVersion;
  /** Counts durable writes, so a reader can tell whether anything changed since its snapshot. */
  private long durableVersion;

  private long lastAssigned;
  private long producerVersion;
  /** The state revision as of the last queued write. */
  private long assignedStateRevision;
  private long lastTimestampMs;
  /** Attributes of a queued or in-flight write, newer than {@link #attributes}; null when none. */
  private byte[] queuedAttributes;
  private int queuedAttributeWrites;
  private int inFlightAttributeWrites;

  /** The highest sequence a queued or in-flight deletion removes (0: none beyond the durable first sequence). */
  private long deletedUpTo;
  /** Payload bytes of appends queued for the next batch, and of those in the batch at the writer. */
  private long nextBytes;
  private long inFlightBytes;

  private List<StoreWrite> nextWrites = new ArrayList<>();
  private List<Completion> nextCompletions = new ArrayList<>();
  private List<Completion> inFlightCompletions;
  private long inFlightLastSequence;

  WritePipeline(String subject, Context context, StreamEnvironment env) {
    this.subject = subject;
    this.context = context;
    this.env = env;
  }

  void listener(Listener listener) {
    this.listener = listener;
  }

  /** Starts from the subject's record as loaded. */
  void loaded(SubjectRecord record) {
    lastAssigned = record.lastSequence();
    lastDurable = record.lastSequence();
    lastTimestampMs = record.lastTimestampMs();
    adopt(record);
    producerVersion = durableProducerVersion;
    assignedStateRevision = stateRevision;
  }

  private void adopt(SubjectRecord record) {
    subjectId = record.id();
    durableProducerVersion = SubjectRecord.longValue(record.view(SubjectRecord.RECORDS_VIEW));
    firstSequence = record.firstSequence();
    messages = record.messages();
    bytes = record.bytes();
    state = record.state();
    stateRevision = record.stateRevision();
    attributes = record.view(SubjectRecord.DURABLE_STREAMS_VIEW);
  }

  // ---- assigning ------------------------------------------------------------------------------

  /** Assigns the next sequence. */
  long assignSequence() {
    return ++lastAssigned;
  }

  /** The publish time of the next message: now, or the previous one's if the clock stepped back. */
  long assignTimestamp() {
    lastTimestampMs = Math.max(lastTimestampMs, env.clock().millis());
    return lastTimestampMs;
  }

  /** The next state revision. */
  long assignStateRevision() {
    return ++assignedStateRevision;
  }

  void assignProducerVersion(long version) {
    producerVersion = version;
  }

  void assignAttributes(byte[] newAttributes) {
    queuedAttributes = newAttributes;
    queuedAttributeWrites++;
  }

  /** Counts an assigned append's payload until it is durable (a retention byte limit sees it at once). */
  void assignBytes(long payloadBytes) {
    nextBytes += payloadBytes;
  }

  /** Counts a queued deletion up to {@code upTo}, so the retained count of the steps after it sees it. */
  void assignDeletion(long upTo) {
    deletedUpTo = Math.max(deletedUpTo, upTo);
  }

  /**
   * Undoes assignments of a step that failed before queueing anything: back to {@code sequence},
   * {@code version}, {@code revision}, the attributes, the queued payload bytes and the queued
   * deletion before it.
   */
  void unassign(long sequence, long version, long revision, byte[] attributesBefore, int attributeWritesBefore,
                long bytesBefore, long deletedUpToBefore) {
    nextBytes = bytesBefore;
    deletedUpTo = deletedUpToBefore;
    lastAssigned = sequence;
    producerVersion = version;
    assignedStateRevision = revision;
    queuedAttributes = attributesBefore;
    queuedAttributeWrites = attributeWritesBefore;
  }

  // ---- queueing -------------------------------------------------------------------------------

  /** Queues {@code writes} together (they go to the writer in the same batch); {@code completion} follows them. */
  void queue(List<StoreWrite> writes, Completion completion) {
    nextWrites.addAll(writes);
    nextCompletions.add(completion);
    flush();
  }

  private void flush() {
    if (inFlightCompletions != null) {
      return;
    }
    if (nextWrites.isEmpty()) {
      // Replies of steps that wrote nothing, queued behind writes that are now durable.
      List<Completion> ready = nextCompletions;
      nextCompletions = new ArrayList<>();
      ready.forEach(Completion::succeeded);
      return;
    }
    List<StoreWrite> writes = nextWrites;
    inFlightCompletions = nextCompletions;
    inFlightLastSequence = lastAssigned;
    inFlightAttributeWrites = queuedAttributeWrites;
    queuedAttributeWrites = 0;
    inFlightBytes = nextBytes;
    nextBytes = 0;
    nextWrites = new ArrayList<>();
    nextCompletions = new ArrayList<>();
    if (!env.writer().submit(new WriteBatch(subject, writes, context, this::written))) {
      written(null, StreamError.overloaded("broker overloaded: the write queue is full, retry later"));
    }
  }

  private void written(SubjectRecord record, Throwable failure) {
    List<Completion> completions = inFlightCompletions;
    inFlightCompletions = null;
    if (failure != null) {
      rewind(completions, failure);
      return;
    }
    lastDurable = inFlightLastSequence;
    inFlightBytes = 0;
    adopt(record);
    durableVersion++;
    if (inFlightAttributeWrites > 0 && queuedAttributeWrites == 0) {
      queuedAttributes = null;
    }
    inFlightAttributeWrites = 0;
    for (Completion completion : completions) {
      completion.succeeded();
    }
    listener.durable();
    flush();
  }

  private void rewind(List<Completion> completions, Throwable failure) {
    List<Completion> later = nextCompletions;
    nextWrites = new ArrayList<>();
    nextCompletions = new ArrayList<>();
    lastAssigned = lastDurable;
    nextBytes = 0;
    inFlightBytes = 0;
    deletedUpTo = 0;
    queuedAttributes = null;
    queuedAttributeWrites = 0;
    inFlightAttributeWrites = 0;
    producerVersion = durableProducerVersion;
    assignedStateRevision = stateRevision;
    listener.rewound();
    completions.forEach(c -> c.failed(failure));
    later.forEach(c -> c.failed(failure));
  }

  /** Forgets every number after the subject's removal became durable: it starts again at sequence 1. */
  void destroyed() {
    lastAssigned = 0;
    lastDurable = 0;
    deletedUpTo = 0;
    producerVersion = 0;
    assignedStateRevision = 0;
    lastTimestampMs = 0;
  }

  /** True when nothing is queued or at the writer. */
  boolean idle() {
    return inFlightCompletions == null && nextWrites.isEmpty() && nextCompletions.isEmpty();
  }

  // ---- numbers --------------------------------------------------------------------------------

  long subjectId() {
    return subjectId;
  }

  long firstSequence() {
    return firstSequence;
  }

  long lastAssigned() {
    return lastAssigned;
  }

  long lastDurable() {
    return lastDurable;
  }

  long messages() {
    return messages;
  }

  /** Retained messages as of the last queued write: appends and deletions not yet durable included. */
  long assignedMessages() {
    return Math.max(0, lastAssigned - assignedFirstSequence() + 1);
  }

  /** The first retained sequence as of the last queued write. */
  long assignedFirstSequence() {
    return Math.max(firstSequence, deletedUpTo + 1);
  }

  /** Local payload bytes as of the last queued write: durable ones plus queued appends (queued deletions not subtracted). */
  long assignedBytes() {
    return bytes + inFlightBytes + nextBytes;
  }

  long queuedBytes() {
    return nextBytes;
  }

  long deletedUpTo() {
    return deletedUpTo;
  }

  long bytes() {
    return bytes;
  }

  byte[] state() {
    return state;
  }

  /** The durable state's revision. */
  long stateRevision() {
    return stateRevision;
  }

  /** The state revision as of the last queued write. */
  long assignedStateRevision() {
    return assignedStateRevision;
  }

  /** Durable view attributes. */
  byte[] attributes() {
    return attributes;
  }

  /** View attributes as of the last queued write. */
  byte[] assignedAttributes() {
    return queuedAttributes != null ? queuedAttributes : attributes;
  }

  byte[] queuedAttributes() {
    return queuedAttributes;
  }

  int queuedAttributeWrites() {
    return queuedAttributeWrites;
  }

  long producerVersion() {
    return producerVersion;
  }

  long durableProducerVersion() {
    return durableProducerVersion;
  }

  long lastTimestampMs() {
    return lastTimestampMs;
  }

  long durableVersion() {
    return durableVersion;
  }
}
