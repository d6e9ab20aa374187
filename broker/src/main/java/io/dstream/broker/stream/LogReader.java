package io.dstream.broker.stream;

import io.dstream.broker.archive.SubjectArchive;
import io.dstream.broker.store.StoredMessage;
import io.vertx.core.Future;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;

/**
 * Every read of one subject's log, for every view: the tail {@link MessageCache} (what was just
 * written), the {@link FetchedPages} (what subscribers behind the tail read), the local store on a
 * reader thread, and the bucket for messages that left the local store (the hot window,
 * docs/storage.md). Only durable sequences are ever answered.
 *
 * <p>Threading: not thread-safe. Owned by one {@link StreamActor} and used on its context; store and
 * bucket reads run on worker threads and complete on that context.
 */
final class LogReader {

  /** Messages per store read. */
  static final int PAGE_MESSAGES = 256;
  /** Bytes per store read (the first message of a page is returned whatever its size). */
  static final long PAGE_BYTES = 4L * 1024 * 1024;
  /** Pages kept for the subscribers behind the tail cache (see {@link FetchedPages}). */
  private static final int FETCHED_PAGES = 8;

  private final StreamEnvironment env;
  private final WritePipeline numbers;
  private final SubjectArchive archive;
  private final MessageCache cache;
  private final FetchedPages fetchedPages = new FetchedPages(FETCHED_PAGES, 2 * PAGE_BYTES);

  private final String subject;
  /** Appended while the tap listened, not yet durable (see {@link #takeTapped}). */
  private final ArrayDeque<CachedMessage> untapped = new ArrayDeque<>();
  /**
   * Whether the tap listened at the first append of the actor's current task, or null: asked once
   * per task (a socket's publishes of one read) instead of once per message, where it was 3 % of a
   * cluster node's samples (the subject matched against every node's subscriptions). A subscription
   * made during a task gets the messages of the tasks after it.
   */
  private Boolean tapListening;

  LogReader(String subject, StreamEnvironment env, WritePipeline numbers, SubjectArchive archive) {
    this.subject = subject;
    this.env = env;
    this.numbers = numbers;
    this.archive = archive;
    this.cache = new MessageCache(env.config().actorCacheMessages(), env.config().actorCacheBytes());
  }

  /** The actor starts a task: whether the tap listens is asked again at its first append. */
  void taskStarted() {
    tapListening = null;
  }

  /** A message just assigned: kept in the tail cache (readers only see it once it is durable). */
  void appended(CachedMessage message) {
    cache.add(message);
    if (tapListening == null) {
      tapListening = env.tap().listening(subject);
    }
    if (tapListening) {
      untapped.add(message);
    }
  }

  /**
   * The messages appended while the {@link DurableTap} listened, up to {@code lastDurable}, taken:
   * they go to the tap once durable. Kept apart from the tail cache, which a large batch can
   * overrun before it commits.
   */
  List<Published> takeTapped(long lastDurable) {
    if (untapped.isEmpty()) {
      return List.of();
    }
    List<Published> due = new ArrayList<>();
    while (!untapped.isEmpty() && untapped.peekFirst().sequence() <= lastDurable) {
      CachedMessage message = untapped.pollFirst();
      due.add(new Published(message.sequence(), message.timestampMs(), message.stored()));
    }
    return due;
  }

  /** The message at {@code sequence} if memory holds it (tail cache, then fetched pages), else null. */
  CachedMessage inMemory(long sequence) {
    CachedMessage cached = cache.get(sequence);
    return cached != null ? cached : fetchedPages.get(sequence);
  }

  /** Keeps a page read for a subscriber, for the others. */
  void keep(List<CachedMessage> page) {
    fetchedPages.add(page);
  }

  /** Forgets what was deleted (below the first retained sequence). */
  void dropDeleted() {
    cache.dropUpTo(numbers.firstSequence() - 1);
    fetchedPages.dropBelow(numbers.firstSequence());
  }

  /** Forgets cached messages after {@code sequence} (their write failed or was undone). */
  void forgetAfter(long sequence) {
    cache.truncateAfter(sequence);
    while (!untapped.isEmpty() && untapped.peekLast().sequence() > sequence) {
      untapped.pollLast();
    }
  }

  /** Forgets everything: the subject was destroyed. */
  void clear() {
    cache.truncateAfter(0);
    untapped.clear();
    fetchedPages.clear();
  }

  /**
   * Durable messages {@code from..min(lastDurable, from + limit - 1)}, about {@code maxBytes} of them
   * at most (the first whatever its size): from memory, else from the log.
   */
  void readDurable(long from, int limit, long maxBytes, BiConsumer<List<Published>, Throwable> onRead) {
    long upTo = Math.min(numbers.lastDurable(), from + limit - 1);
    if (from > upTo) {
      onRead.accept(List.of(), null);
      return;
    }
    List<Published> cached = new ArrayList<>();
    long cachedBytes = 0;
    for (long sequence = from; sequence <= upTo && cachedBytes < maxBytes; sequence++) {
      CachedMessage message = cache.get(sequence);
      if (message == null) {
        break;
      }
      cached.add(new Published(sequence, message.timestampMs(), message.stored()));
      cachedBytes += message.bytes();
    }
    if (!cached.isEmpty() && (cached.size() == upTo - from + 1 || cachedBytes >= maxBytes)) {
      onRead.accept(cached, null);
      return;
    }
    read(from, limit, maxBytes).onComplete(ar -> {
      if (ar.failed()) {
        onRead.accept(null, ar.cause());
        return;
      }
      List<Published> read = new ArrayList<>(ar.result().size());
      for (StoredMessage message : ar.result()) {
        if (message.sequence() > upTo) {
          break;
        }
        read.add(new Published(message.sequence(), message.timestampMs(), message.payload()));
      }
      onRead.accept(read, null);
    });
  }

  /**
   * Messages from {@code from}: from the local store, or, where it no longer holds them (they left
   * the hot window, or the subject was restored), from the segment in the bucket that does.
   */
  Future<List<StoredMessage>> read(long from, int count) {
    return read(from, count, PAGE_BYTES);
  }

  private Future<List<StoredMessage>> read(long from, int count, long maxBytes) {
    return readLocal(env, numbers.subjectId(), from, count, maxBytes).compose(local -> {
      boolean missing = local.isEmpty() || local.get(0).sequence() > from;
      // With the manifest unknown (bucket unreachable) the segments are asked anyway: the read fails
      // and is retried, rather than the subscriber skipping messages that only the bucket holds.
      if (!missing || from < numbers.firstSequence()
          || archive.manifestKnown() && from > archive.checkpointedUpTo()) {
        return Future.succeededFuture(local);
      }
      return archive.read(from, count).compose(archived -> {
        if (archived.isEmpty()) {
          return Future.succeededFuture(local);
        }
        long next = archived.get(archived.size() - 1).sequence() + 1;
        if (archived.size() >= count || next > numbers.lastDurable()) {
          return Future.succeededFuture(archived);
        }
        // The segment ended: go on in the next one (or the local store), up to count messages.
        return read(next, count - archived.size(), maxBytes).map(more -> {
          List<StoredMessage> joined = new ArrayList<>(archived.size() + more.size());
          joined.addAll(archived);
          for (StoredMessage message : more) {
            if (message.sequence() == joined.get(joined.size() - 1).sequence() + 1) {
              joined.add(message);
            }
          }
          return joined;
        });
      });
    });
  }

  /**
   * The sequence to read from to get the messages published at or after {@code timestampMs}: the
   * first retained one that recent (local store, else bucket), else the next sequence to be
   * written. Found by binary search (publish times are non-decreasing), never by a scan.
   */
  Future<Long> firstSequenceAt(long timestampMs) {
    long next = numbers.lastDurable() + 1;
    long subjectId = numbers.subjectId();
    return env.readers().executeBlocking(() -> env.store().firstSequenceAtOrAfter(subjectId, timestampMs), false)
        .compose(local -> archive.firstSequenceAt(timestampMs, numbers.firstSequence(), local))
        .map(found -> found == 0 ? next : found);
  }

  /** Committed local messages of subject {@code id} from {@code from}, read on a reader thread. */
  static Future<List<StoredMessage>> readLocal(StreamEnvironment env, long id, long from, int count, long maxBytes) {
    return env.readers().executeBlocking(() -> env.store().read(id, from, count, maxBytes), false);
  }
}
