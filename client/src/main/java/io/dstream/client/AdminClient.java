package io.dstream.client;

import io.vertx.core.Future;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;

/**
 * The broker's admin API ({@code /admin/}, docs/admin.md), opened by {@link DurableStream#admin(ClientOptions)}: what
 * the NATS protocol has no word for. Subjects and their numbers, a subject's state object, its stored messages page
 * by page (an export reads them so: {@code dstream export} is built on this), deleting messages or a whole subject,
 * operating JetStream consumers (their numbers, create, delete, pause, resume), the retention rules, and in cluster
 * mode the partitions as a node sees them.
 * It needs the API key or a JWT with {@code "admin": true}.
 *
 * <p>Answers are the broker's JSON objects exactly as docs/admin.md documents them, so a field the broker adds is
 * there without a client release. Failures: {@link AuthenticationException} for refused credentials,
 * {@link StreamException} with code {@code not_found} for a subject that does not exist (no admin call creates
 * one), {@code forbidden} without admin rights, {@code connect_failed} when the broker is unreachable. Thread-safe;
 * futures complete on the client's HTTP threads.
 */
public interface AdminClient extends AutoCloseable {

  /** The largest {@code limit} of a page. */
  int MAX_PAGE = 1000;

  /**
   * Lists subjects in name order.
   *
   * @param prefix only names starting with it (literal, not a pattern), or null for all
   * @param cursor from the previous page's {@code "cursor"}, or null for the first page
   * @param limit 1 to {@link #MAX_PAGE}
   * @return {@code {"subjects":[{"subject","firstSequence","lastSequence","messages","bytes","stateCrc32",
   *     "lastPublishMs","subscribers"}],"truncated":bool,"cursor":"..."}}
   */
  Future<JsonObject> subjects(String prefix, String cursor, int limit);

  /** @return one subject's numbers with its {@code "state"} and {@code "consumers"} */
  Future<JsonObject> subject(String subject);

  /**
   * Reads stored messages in sequence order; continue with {@code from = next} until {@code next > lastSequence}
   * or the page is empty.
   *
   * @param from the first sequence wanted; an earlier, deleted one starts at the first retained
   * @param limit 1 to {@link #MAX_PAGE} (the broker also stops at 4 MiB)
   * @return {@code {"subject","lastSequence","messages":[{"sequence","ts","message":{stored object}}],"next":N}}
   */
  Future<JsonObject> messages(String subject, long from, int limit);

  /** @return the subject's state object, empty if none was stored */
  Future<JsonObject> state(String subject);

  /**
   * Replaces the subject's state object, ordered with the subject's publishes.
   *
   * @return {@code {"subject","lastSequence","state","revision"}} once it is durable
   */
  Future<JsonObject> putState(String subject, JsonObject state);

  /**
   * Deletes the retained messages up to a sequence; the last sequence stays and sequences are never reused.
   *
   * @return {@code {"subject","deletedUpTo","firstSequence","lastSequence","messages","bytes"}} once it is durable
   */
  Future<JsonObject> deleteMessages(String subject, long upToSequence);

  /**
   * Deletes a subject for good: its messages, state and checkpoints; a later publish starts it again at sequence 1.
   * (The records API's {@code DELETE /stream/{subject}}, which the API key or a token with publish rights may do.)
   */
  Future<Void> deleteSubject(String subject);

  /**
   * Lists JetStream consumers with their numbers (docs/admin.md, "JetStream consumers").
   *
   * @param stream one declared stream's consumers, or null for every stream's
   * @return {@code {"consumers":[{"stream","name","subject","type","durable","config",
   *     "pending","ackPending","ackFloor","redelivered","waiting","lastActivityMs","paused","pauseUntil",...}]}};
   *     {@code not_found} for a stream that is not declared
   */
  Future<JsonObject> consumers(String stream);

  /** @return one consumer as {@link #consumers} shows it; {@code not_found} if it or its stream does not exist */
  Future<JsonObject> consumer(String stream, String name);

  /**
   * Creates a durable consumer on a declared stream, checked by the same rules as the JetStream API.
   *
   * @param config {@code name} (required), {@code deliverSubject} (push; absent: pull), {@code ackPolicy},
   *     {@code ackWaitMs}, {@code maxDeliver}, {@code maxAckPending}, {@code deliverPolicy} with
   *     {@code startSequence} or {@code startTime}, {@code filterSubject}
   * @return the new consumer; {@code consumer_exists} if one has that name
   */
  Future<JsonObject> addConsumer(String stream, JsonObject config);

  /** Deletes a consumer with its saved state. */
  Future<Void> deleteConsumer(String stream, String name);

  /** Pauses a consumer's deliveries for {@code duration} (the broker's clock); @return the consumer */
  Future<JsonObject> pauseConsumer(String stream, String name, Duration duration);

  /** Pauses a consumer's deliveries until {@code until}; a past time resumes it. @return the consumer */
  Future<JsonObject> pauseConsumer(String stream, String name, Instant until);

  /** Resumes a paused consumer at once. @return the consumer */
  Future<JsonObject> resumeConsumer(String stream, String name);

  /**
   * The retention rules (docs/consumers-and-retention.md).
   *
   * @return {@code {"default":{limits},"rules":[{"pattern",limits...}]}}, rules most specific first; limits are
   *     {@code "maxAgeMs","maxMessages","maxBytes","maxMessageSize"} (0 = unlimited) and {@code "discard"}
   */
  Future<JsonObject> retention();

  /**
   * Sets the retention rule of a subject pattern ({@code *} one token, a final {@code >} the rest), replacing the
   * pattern's previous rule; it applies to existing subjects from their next write and the next sweep.
   *
   * @param limits any of {@code "maxAgeMs","maxMessages","maxBytes","maxMessageSize"} (absent or 0 = unlimited) and
   *     {@code "discard"} ({@code "old"}, the default, or {@code "new"})
   * @return {@code {"pattern",limits...}} once the rule is durable and in force
   */
  Future<JsonObject> putRetention(String pattern, JsonObject limits);

  /** Removes the rule of a pattern; fails with {@code not_found} if it has none. */
  Future<Void> deleteRetention(String pattern);

  /**
   * Cluster mode as the node asked sees it (docs/cluster.md).
   *
   * @return {@code {"node","members":[ids],"partitions":n,"partition_list":[{"partition","peers","leader","term",
   *     "role","applied","voters"}]}}; {@code not_found} on a single node
   */
  Future<JsonObject> cluster();

  /**
   * @return where cluster mode places a subject: {@code {"subject","partition","leader","peers"}}; {@code not_found}
   *     on a single node
   */
  Future<JsonObject> placement(String subject);

  /** Releases the client's threads. */
  @Override
  void close();
}
