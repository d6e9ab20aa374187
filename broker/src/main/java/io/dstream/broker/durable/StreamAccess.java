package io.dstream.broker.durable;

import io.dstream.broker.stream.ViewTransaction;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.StoredMessage;
import io.dstream.broker.stream.OverloadedException;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamRegistry;
import io.dstream.broker.stream.ViewSnapshot;
import io.dstream.broker.stream.ViewStep;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.WorkerExecutor;

import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * How the Durable Streams view reaches its streams: each stream path is one subject and so one
 * {@link StreamActor}; metadata changes and appends run as {@link ViewStep}s on that actor, reads go
 * to the store by subject id off the event loop (durable messages only), forks read through their
 * sources' subjects.
 *
 * <p>Thread-safety: every method may be called from any event-loop context; futures complete on the
 * {@code caller} context. The last-access times (the TTL's sliding window) live in memory only: after
 * a restart a stream's window starts again at its first access (which can only extend a TTL).
 */
final class StreamAccess {

  /** A stream as a request sees it: its actor (attached), durable snapshot, and decoded metadata (null if absent). */
  record Found(StreamActor actor, ViewSnapshot snapshot, StreamMeta meta) {
    long tailPosition() {
      return meta.position(snapshot.lastSequence());
    }

    String tailOffset() {
      return Offsets.format(tailPosition());
    }
  }

  /** One message of a read: its logical position and payload. */
  record Entry(long position, byte[] payload) {
  }

  /** The result of a read: entries in order, and whether they reach the tail. */
  record Chunk(List<Entry> entries, boolean upToDate) {
  }

  /** A piece of a fork chain: the stream's own messages at positions (low, high]. */
  private record Segment(long subjectId, StreamMeta meta, long low, long high) {
  }

  private static final int READ_MAX_MESSAGES = 1000;

  private final StreamRegistry registry;
  private final MessageStore store;
  private final WorkerExecutor readers;
  private final Clock clock;
  private final long readMaxBytes;
  private final Map<String, Long> lastAccess = new ConcurrentHashMap<>();
  private final AtomicLong waiters;
  private final int maxWaiters;

  /**
   * @param waiters    the broker-wide count of waiting long-polls (shared with the records API)
   * @param maxWaiters the bound on that count; a wait beyond it fails with {@link OverloadedException}
   */
  StreamAccess(StreamRegistry registry, MessageStore store, WorkerExecutor readers, Clock clock, long readMaxBytes,
               AtomicLong waiters, int maxWaiters) {
    this.registry = registry;
    this.store = store;
    this.readers = readers;
    this.clock = clock;
    this.readMaxBytes = readMaxBytes;
    this.waiters = waiters;
    this.maxWaiters = maxWaiters;
  }

  /** Waits on the actor for its next durable write after {@code version} (see {@link StreamActor#awaitChange}). */
  Future<Boolean> awaitChange(StreamActor actor, long version, long timeoutMs, Context caller) {
    if (waiters.incrementAndGet() > maxWaiters) {
      waiters.decrementAndGet();
      return Future.failedFuture(new OverloadedException("too many long-polls wait: " + maxWaiters));
    }
    return actor.awaitChange(version, timeoutMs, caller).andThen(done -> waiters.decrementAndGet());
  }

  long now() {
    return clock.millis();
  }

  /** Attaches to the stream's actor for the duration of {@code work}, then detaches. */
  <T> Future<T> using(String subject, Context caller, Function<StreamActor, Future<T>> work) {
    return registry.attach(subject, caller).compose(actor -> {
      Future<T> result;
      try {
        result = work.apply(actor);
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      return result.andThen(done -> actor.detach());
    });
  }

  /** Runs a step on the actor; completes on {@code caller} after its writes are durable. */
  <T> Future<T> transact(StreamActor actor, ViewStep<T> step, Context caller) {
    Promise<T> promise = Promise.promise();
    actor.transact(step, (result, failure) -> caller.runOnContext(v -> {
      if (failure != null) {
        promise.fail(failure);
      } else {
        promise.complete(result);
      }
    }));
    return promise.future();
  }

  /** The stream's durable snapshot; expired streams are expired first (and then look absent or soft-deleted). */
  Future<Found> find(StreamActor actor, String path, Context caller) {
    return snapshot(actor, caller).compose(found -> {
      if (found.meta() == null || found.meta().softDeleted || !found.meta().expired(now(), lastAccess(path, found.meta()))) {
        return Future.succeededFuture(found);
      }
      return expire(actor, path, caller).compose(v -> snapshot(actor, caller));
    });
  }

  private Future<Found> snapshot(StreamActor actor, Context caller) {
    Promise<Found> promise = Promise.promise();
    actor.snapshot((snapshot, failure) -> caller.runOnContext(v -> {
      if (failure != null) {
        promise.fail(failure);
      } else {
        promise.complete(new Found(actor, snapshot, StreamMeta.decode(snapshot.attributes())));
      }
    }));
    return promise.future();
  }

  /** Marks a read or append: restarts the TTL window. */
  void touch(String path) {
    lastAccess.put(path, now());
  }

  void forget(String path) {
    lastAccess.remove(path);
  }

  long lastAccess(String path, StreamMeta meta) {
    return lastAccess.computeIfAbsent(path, p -> Math.max(meta.createdMs, now()));
  }

  /** Expired: soft-deleted if forks still read through it, else removed (and its source released). */
  private Future<Void> expire(StreamActor actor, String path, Context caller) {
    return transact(actor, tx -> {
      StreamMeta meta = StreamMeta.decode(tx.attributes());
      if (meta == null || meta.softDeleted || !meta.expired(now(), lastAccess(path, meta))) {
        return null;
      }
      return removeOrSoftDelete(tx, meta);
    }, caller).compose(source -> releaseSource(source, caller)).andThen(v -> forget(path));
  }

  /**
   * Within a step: soft-deletes a stream that forks still read, else deletes its messages and
   * metadata. Returns the fork source to release (null if none or soft-deleted).
   */
  static String removeOrSoftDelete(ViewTransaction tx, StreamMeta meta) {
    if (meta.refs > 0) {
      meta.softDeleted = true;
      tx.putAttributes(meta.encode());
      return null;
    }
    tx.deleteAll();
    tx.putAttributes(new byte[0]);
    return meta.forkedFrom;
  }

  /** A fork went away: its source has one reference less and is removed if it was soft-deleted. */
  Future<Void> releaseSource(String sourcePath, Context caller) {
    if (sourcePath == null) {
      return Future.succeededFuture();
    }
    String subject = StreamPaths.subject(sourcePath);
    return using(subject, caller, actor -> transact(actor, tx -> {
      StreamMeta meta = StreamMeta.decode(tx.attributes());
      if (meta == null) {
        return null;
      }
      meta.refs = Math.max(0, meta.refs - 1);
      if (meta.refs == 0 && meta.softDeleted) {
        return removeOrSoftDelete(tx, meta);
      }
      tx.putAttributes(meta.encode());
      return null;
    }, caller)).compose(next -> {
      if (next == null) {
        return Future.succeededFuture();
      }
      forget(sourcePath);
      return releaseSource(next, caller);
    });
  }

  /**
   * Appends one JSON value to an existing, open stream (the wake events of pull-wake
   * subscriptions); completes with the new tail position.
   */
  Future<Long> appendJson(String path, JsonObject value, Context caller) {
    String subject = StreamPaths.subject(path);
    if (subject == null) {
      return Future.failedFuture(new BadRequest(400, "invalid_path", "invalid wake stream path"));
    }
    byte[] body = value.encode().getBytes(StandardCharsets.UTF_8);
    return using(subject, caller, actor -> transact(actor, tx -> {
      StreamMeta meta = StreamMeta.decode(tx.attributes());
      if (meta == null || meta.softDeleted || meta.closed) {
        throw new BadRequest(409, "wake_stream_unavailable", "wake stream does not exist or is closed");
      }
      tx.append(meta.jsonMode() ? JsonMode.stored(body, false) : body);
      return meta.position(tx.lastSequence());
    }, caller));
  }

  // ---- reads ----------------------------------------------------------------------------------

  /** Reads the messages after position {@code from}, through the fork chain, bounded in bytes. */
  Future<Chunk> read(Found found, long from, Context caller) {
    long tail = found.tailPosition();
    if (from >= tail) {
      return Future.succeededFuture(new Chunk(List.of(), true));
    }
    List<Segment> segments = new ArrayList<>();
    segments.add(new Segment(found.snapshot().subjectId(), found.meta(), found.meta().forkBase, tail));
    return collectSources(found.meta(), from, found.meta().forkBase, segments, caller)
        .compose(all -> readers.executeBlocking(() -> readSegments(all, from, tail), false))
        .compose(chunk -> {
          Promise<Chunk> onCaller = Promise.promise();
          caller.runOnContext(v -> onCaller.complete(chunk));
          return onCaller.future();
        });
  }

  /** Adds the source segments a read from {@code from} needs (each capped at the fork point below it), oldest last. */
  private Future<List<Segment>> collectSources(StreamMeta meta, long from, long cap, List<Segment> segments,
                                               Context caller) {
    if (meta.forkedFrom == null || from >= cap) {
      return Future.succeededFuture(segments);
    }
    String sourceSubject = StreamPaths.subject(meta.forkedFrom);
    return using(sourceSubject, caller, actor -> snapshot(actor, caller)).compose(source -> {
      if (source.meta() == null) {
        return Future.succeededFuture(segments);
      }
      long high = Math.min(cap, source.tailPosition());
      segments.add(new Segment(source.snapshot().subjectId(), source.meta(), source.meta().forkBase, high));
      return collectSources(source.meta(), from, Math.min(cap, source.meta().forkBase), segments, caller);
    });
  }

  private Chunk readSegments(List<Segment> newestFirst, long from, long tail) {
    List<Entry> entries = new ArrayList<>();
    long bytes = 0;
    long position = from;
    for (int i = newestFirst.size() - 1; i >= 0; i--) {
      Segment segment = newestFirst.get(i);
      while (position < segment.high()) {
        long start = Math.max(position, segment.low());
        List<StoredMessage> messages = store.read(segment.subjectId(), segment.meta().sequence(start) + 1,
            READ_MAX_MESSAGES, Math.max(1, readMaxBytes - bytes));
        boolean progressed = false;
        for (StoredMessage message : messages) {
          long at = segment.meta().position(message.sequence());
          if (at > segment.high()) {
            break;
          }
          if (!entries.isEmpty() && bytes + message.payload().length > readMaxBytes) {
            return new Chunk(entries, false);
          }
          entries.add(new Entry(at, message.payload()));
          bytes += message.payload().length;
          position = at;
          progressed = true;
        }
        if (!progressed) {
          break;
        }
      }
      position = Math.max(position, segment.high());
    }
    return new Chunk(entries, true);
  }
}
