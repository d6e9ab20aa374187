package io.dstream.broker.durablestreams;

import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamActor;
import io.dstream.broker.stream.StreamError;
import io.dstream.broker.stream.StreamRegistry;
import io.dstream.broker.stream.SubjectTransaction;
import io.dstream.broker.stream.ViewSnapshot;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * How the Durable Streams view reaches its streams: each stream path is one subject and so one
 * {@link StreamActor}. Every request is one actor call ({@link StreamRegistry#ask}): appends and
 * metadata changes run as one {@link Step} (the stream's expiry, the metadata decoded once, the
 * protocol's checks and the writes, together); reads take a durable {@link #find snapshot} in one
 * call and then read pages through the actor's log reader (tail cache, local store, bucket); forks
 * read through their sources' subjects.
 *
 * <p>Thread-safety: every method may be called from any event-loop context; futures complete on the
 * {@code caller} context. The last-access times (the TTL's sliding window) live in memory only: after
 * a restart a stream's window starts again at its first access (which can only extend a TTL).
 */
final class StreamAccess {

  /** A stream as a read sees it: its subject, durable snapshot and decoded metadata (null if absent). */
  record Found(String subject, ViewSnapshot snapshot, StreamMeta meta) {
    long tailPosition() {
      return meta.position(snapshot.lastSequence());
    }

    String tailOffset() {
      return Offsets.format(tailPosition());
    }
  }

  /**
   * One step of the view on a stream, run on its actor: {@code meta} is the stream's metadata as
   * of the last queued write, decoded once, already expired if its time had come (null if absent).
   */
  @FunctionalInterface
  interface Step<T> {
    T apply(SubjectTransaction tx, StreamMeta meta);
  }

  /** One message of a read: its logical position and payload. */
  record Entry(long position, byte[] payload) {
  }

  /** The result of a read: entries in order, and whether they reach the tail. */
  record Chunk(List<Entry> entries, boolean upToDate) {
  }

  /** A piece of a fork chain: the stream's own messages at positions (low, high]. */
  private record Segment(String subject, StreamMeta meta, long low, long high) {
  }

  /** A step's result with the fork source its expiry released (null if none). */
  private record Stepped<T>(T result, String released) {
  }

  private static final int READ_MAX_MESSAGES = 1000;

  private final StreamRegistry registry;
  private final Clock clock;
  private final long readMaxBytes;
  private final Map<String, Long> lastAccess = new ConcurrentHashMap<>();
  private final AtomicLong waiters;
  private final int maxWaiters;

  /**
   * @param waiters    the broker-wide count of waiting long-polls (shared with the records API)
   * @param maxWaiters the bound on that count; a wait beyond it fails as overloaded
   */
  StreamAccess(StreamRegistry registry, Clock clock, long readMaxBytes, AtomicLong waiters, int maxWaiters) {
    this.registry = registry;
    this.clock = clock;
    this.readMaxBytes = readMaxBytes;
    this.waiters = waiters;
    this.maxWaiters = maxWaiters;
  }

  long now() {
    return clock.millis();
  }

  /**
   * Runs {@code step} on the stream's actor in one call; completes on {@code caller} once its writes
   * are durable. A stream whose time ran out is expired in the same step first.
   */
  <T> Future<T> call(String subject, String path, Context caller, Step<T> step) {
    return registry.<Stepped<T>>call(subject, caller, tx -> {
      StreamMeta meta = StreamMeta.decode(tx.attributes());
      String released = null;
      if (expired(path, meta)) {
        released = removeOrSoftDelete(tx, meta);
        meta = released == null && meta.refs > 0 ? meta : null;
      }
      return new Stepped<>(step.apply(tx, meta), released);
    }).compose(stepped -> stepped.released() == null ? Future.succeededFuture(stepped.result())
        : releaseExpired(path, stepped.released(), caller).map(stepped.result()));
  }

  /** The stream's durable snapshot, in one actor call; an expired stream is expired first. */
  Future<Found> find(String subject, String path, Context caller) {
    return registry.<Stepped<Found>>ask(subject, caller, (actor, reply) -> actor.snapshot((snapshot, failure) -> {
      if (failure != null) {
        reply.accept(null, failure);
        return;
      }
      StreamMeta meta = StreamMeta.decode(snapshot.attributes());
      if (!expired(path, meta)) {
        reply.accept(new Stepped<>(new Found(subject, snapshot, meta), null), null);
        return;
      }
      actor.<String>call(tx -> {
        StreamMeta now = StreamMeta.decode(tx.attributes());
        return expired(path, now) ? removeOrSoftDelete(tx, now) : null;
      }, (released, expireFailure) -> {
        if (expireFailure != null) {
          reply.accept(null, expireFailure);
          return;
        }
        actor.snapshot((after, again) -> reply.accept(after == null ? null
            : new Stepped<>(new Found(subject, after, StreamMeta.decode(after.attributes())), released), again));
      });
    })).compose(stepped -> stepped.released() == null ? Future.succeededFuture(stepped.result())
        : releaseExpired(path, stepped.released(), caller).map(stepped.result()));
  }

  private boolean expired(String path, StreamMeta meta) {
    return meta != null && !meta.softDeleted && meta.expired(now(), lastAccess(path, meta));
  }

  private Future<Void> releaseExpired(String path, String source, Context caller) {
    forget(path);
    return releaseSource(source, caller);
  }

  /**
   * Completes with true at the stream's next durable write after the snapshot of {@code version},
   * with false after {@code timeoutMs}; fails as overloaded beyond the broker-wide bound on waiters.
   */
  Future<Boolean> awaitChange(String subject, long version, long timeoutMs, Context caller) {
    if (waiters.incrementAndGet() > maxWaiters) {
      waiters.decrementAndGet();
      return Future.failedFuture(StreamError.overloaded("too many long-polls wait: " + maxWaiters));
    }
    return registry.<Boolean>ask(subject, caller, (actor, reply) -> actor.awaitChange(version, timeoutMs, reply))
        .andThen(done -> waiters.decrementAndGet());
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

  /**
   * Within a step: soft-deletes a stream that forks still read, else deletes its messages and
   * metadata. Returns the fork source to release (null if none or soft-deleted).
   */
  static String removeOrSoftDelete(SubjectTransaction tx, StreamMeta meta) {
    if (meta.refs > 0) {
      meta.softDeleted = true;
      tx.putAttributes(meta.encode());
      return null;
    }
    tx.deleteUpTo(tx.lastSequence());
    tx.putAttributes(new byte[0]);
    return meta.forkedFrom;
  }

  /** A fork went away: its source has one reference less and is removed if it was soft-deleted. */
  Future<Void> releaseSource(String sourcePath, Context caller) {
    if (sourcePath == null) {
      return Future.succeededFuture();
    }
    String subject = StreamPaths.subject(sourcePath);
    return registry.<String>call(subject, caller, tx -> {
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
    }).compose(next -> {
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
      return Future.failedFuture(StreamError.invalid("invalid_path", "invalid wake stream path"));
    }
    byte[] body = value.encode().getBytes(StandardCharsets.UTF_8);
    return call(subject, path, caller, (tx, meta) -> {
      if (meta == null || meta.softDeleted || meta.closed) {
        throw StreamError.conflict("wake_stream_unavailable", "wake stream does not exist or is closed");
      }
      tx.append(meta.jsonMode() ? JsonMode.stored(body, false) : body);
      return meta.position(tx.lastSequence());
    });
  }

  // ---- reads ----------------------------------------------------------------------------------

  /**
   * Reads the messages after position {@code from}, through the fork chain, bounded in bytes; each
   * page is one call to the owning subject's actor, which reads from its tail cache, the local store
   * or the bucket.
   */
  Future<Chunk> read(Found found, long from, Context caller) {
    long tail = found.tailPosition();
    if (from >= tail) {
      return Future.succeededFuture(new Chunk(List.of(), true));
    }
    List<Segment> segments = new ArrayList<>();
    segments.add(new Segment(found.subject(), found.meta(), found.meta().forkBase, tail));
    return collectSources(found.meta(), from, found.meta().forkBase, segments, caller)
        .compose(all -> readFrom(all, all.size() - 1, from, new ArrayList<>(), 0, caller));
  }

  /** Adds the source segments a read from {@code from} needs (each capped at the fork point below it), oldest last. */
  private Future<List<Segment>> collectSources(StreamMeta meta, long from, long cap, List<Segment> segments,
                                               Context caller) {
    if (meta.forkedFrom == null || from >= cap) {
      return Future.succeededFuture(segments);
    }
    String sourceSubject = StreamPaths.subject(meta.forkedFrom);
    return find(sourceSubject, meta.forkedFrom, caller).compose(source -> {
      if (source.meta() == null) {
        return Future.succeededFuture(segments);
      }
      long high = Math.min(cap, source.tailPosition());
      segments.add(new Segment(sourceSubject, source.meta(), source.meta().forkBase, high));
      return collectSources(source.meta(), from, Math.min(cap, source.meta().forkBase), segments, caller);
    });
  }

  /** Reads segment {@code index} (and the newer ones after it) from {@code position}, adding to {@code entries}. */
  private Future<Chunk> readFrom(List<Segment> newestFirst, int index, long position, List<Entry> entries, long bytes,
                                 Context caller) {
    if (index < 0) {
      return Future.succeededFuture(new Chunk(entries, true));
    }
    Segment segment = newestFirst.get(index);
    if (position >= segment.high()) {
      return readFrom(newestFirst, index - 1, position, entries, bytes, caller);
    }
    long fromSequence = segment.meta().sequence(Math.max(position, segment.low())) + 1;
    long budget = Math.max(1, readMaxBytes - bytes);
    return registry.<List<Published>>ask(segment.subject(), caller,
        (actor, reply) -> actor.readPage(fromSequence, READ_MAX_MESSAGES, budget, reply)).compose(messages -> {
          long next = position;
          long total = bytes;
          for (Published message : messages) {
            long at = segment.meta().position(message.sequence());
            if (at > segment.high()) {
              break;
            }
            if (!entries.isEmpty() && total + message.stored().length > readMaxBytes) {
              return Future.succeededFuture(new Chunk(entries, false));
            }
            entries.add(new Entry(at, message.stored()));
            total += message.stored().length;
            next = at;
          }
          return next > position ? readFrom(newestFirst, index, next, entries, total, caller)
              : readFrom(newestFirst, index - 1, segment.high(), entries, total, caller);
        });
  }
}
