package io.dstream.broker.nats;

import io.dstream.broker.cluster.LeaderCalls;
import io.dstream.broker.stream.StreamError;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * The declared JetStream streams (name, subject, the config as the client sent it), kept as a log
 * of put and delete records in the system subject {@value #SUBJECT}, so they are as durable as any
 * message. Every node keeps a copy, read from the log's leader (this node on a single node) and
 * brought up to date by {@link #read}, which reads only what was appended since. A put is checked
 * (a stream keeps its subject, streams do not overlap) and appended in one step on the log's leader,
 * one at a time, so two nodes declaring at once cannot both succeed where only one may. In cluster
 * mode a put or a delete is answered once every node has read it (or failed to answer within
 * {@link #SPREAD_WAIT}): a client that declares a stream through one node and publishes
 * through another with {@code Nats-Expected-Stream} is not refused by a copy one record behind.
 *
 * <p>Thread-safe: the maps are concurrent, as PubAcks read them on the actors' contexts.
 */
final class StreamDeclarations {

  static final String SUBJECT = "$DS.JS.STREAMS";
  private static final String DECLARE_CALL = "nats.js.declare";
  private static final String DECLARED_CALL = "nats.js.declared";
  /**
   * How long a declaration's answer waits for the other nodes to read it: well within a client's
   * request timeout (jnats' is 2 s), so a node down or frozen (a member for 3 s more) costs the
   * client a slower answer, not a timeout.
   */
  private static final Duration SPREAD_WAIT = Duration.ofMillis(500);
  private static final int READ_PAGE = 1000;
  private static final long READ_PAGE_BYTES = 4L * 1024 * 1024;

  private final LeaderCalls calls;
  private final Map<String, StreamDeclaration> byName = new ConcurrentHashMap<>();
  private final Map<String, String> nameBySubject = new ConcurrentHashMap<>();
  /** The wildcard streams, for PubAcks of the subjects they match (a copy-on-write array: read on every PubAck). */
  private final List<StreamDeclaration> wildcards = new CopyOnWriteArrayList<>();
  /** The log's last sequence replayed; written only by the one read running at a time. */
  private volatile long readUpTo;
  private Future<Void> reading;
  /** On the log's leader: the declarations being checked and appended, one after the other. */
  private Future<Void> declaring = Future.succeededFuture();

  StreamDeclarations(LeaderCalls calls) {
    this.calls = calls;
    calls.register(DECLARE_CALL, (subject, request, context) -> declareHere(new JsonObject(request)));
    calls.register(DECLARED_CALL, (subject, request, context) -> readThrough(request.getLong(0))
        .map(Buffer.buffer(0)));
  }

  /** Reads what was appended to the log since the last read; joins the read under way, if any. */
  synchronized Future<Void> read() {
    if (reading == null || reading.isComplete()) {
      reading = readFrom(readUpTo + 1);
    }
    return reading;
  }

  /** Reads at least up to the log's {@code sequence}: a read under way may have started before it was appended. */
  private Future<Void> readThrough(long sequence) {
    return read().compose(v -> readUpTo >= sequence ? Future.succeededFuture() : read());
  }

  private Future<Void> readFrom(long from) {
    return calls.read(SUBJECT, from, READ_PAGE, READ_PAGE_BYTES).compose(page -> {
      if (page.isEmpty()) {
        return Future.succeededFuture();
      }
      page.forEach(record -> replay(new JsonObject(new String(record.stored(), StandardCharsets.UTF_8))));
      readUpTo = page.get(page.size() - 1).sequence();
      return readFrom(readUpTo + 1);
    });
  }

  private void replay(JsonObject record) {
    String name = record.getString("name");
    StreamDeclaration old = byName.remove(name);
    if (old != null) {
      nameBySubject.remove(old.subject(), name);
      wildcards.remove(old);
    }
    if ("put".equals(record.getString("op"))) {
      StreamDeclaration declared = new StreamDeclaration(name, record.getString("subject"),
          record.getJsonObject("config"), record.getString("created"));
      byName.put(name, declared);
      if (declared.wildcard()) {
        wildcards.add(declared);
      } else {
        nameBySubject.put(declared.subject(), name);
      }
    }
  }

  /**
   * Refuses declaring stream {@code name} on {@code subject} when a stream of that name has another
   * subject, or another stream's subject overlaps it.
   */
  void check(String name, String subject) {
    StreamDeclaration existing = byName.get(name);
    if (existing != null && !existing.subject().equals(subject)) {
      throw StreamError.invalid("invalid_config", "stream '" + name + "' is on subject '" + existing.subject()
          + "'; a stream's subject cannot change");
    }
    for (StreamDeclaration other : byName.values()) {
      if (!other.name().equals(name) && SubjectPatterns.overlap(subject, other.subject())) {
        throw StreamError.invalid("subjects_overlap", "subjects overlap with an existing stream");
      }
    }
  }

  /**
   * Appends a put or delete record on the log's leader (a put checked there first, see
   * {@link #check}); completes once it is durable and in this node's copy and, in cluster mode, in
   * those of the other nodes that answered in time.
   */
  Future<Void> append(JsonObject record) {
    return calls.call(SUBJECT, DECLARE_CALL, record.toBuffer(), false).compose(sequence -> {
      replay(record);
      return calls.clustered() ? calls.everyNode(DECLARED_CALL, sequence, SPREAD_WAIT) : Future.succeededFuture();
    });
  }

  private synchronized Future<Buffer> declareHere(JsonObject record) {
    Promise<Buffer> done = Promise.promise();
    declaring = declaring.transform(previous -> read().compose(v -> {
      if ("put".equals(record.getString("op"))) {
        check(record.getString("name"), record.getString("subject"));
      }
      return calls.append(SUBJECT, record.toBuffer().getBytes(), false);
    }).map(sequence -> {
      replay(record);
      return Buffer.buffer(8).appendLong(sequence);
    }).onComplete(done).transform(ar -> Future.succeededFuture()));
    return done.future();
  }

  /** The declared stream {@code name}, or null if none is declared by that name. */
  StreamDeclaration get(String name) {
    return byName.get(name);
  }

  /** The declared streams, in name order. */
  List<StreamDeclaration> all() {
    return new ArrayList<>(new TreeMap<>(byName).values());
  }

  int size() {
    return byName.size();
  }

  /**
   * The stream name PubAcks give for {@code subject}: the stream declared on it, else the wildcard
   * stream matching it, else the subject itself.
   */
  String streamName(String subject) {
    String name = nameBySubject.get(subject);
    if (name != null) {
      return name;
    }
    for (StreamDeclaration wildcard : wildcards) {
      if (wildcard.pattern().matches(subject)) {
        return wildcard.name();
      }
    }
    return subject;
  }
}
