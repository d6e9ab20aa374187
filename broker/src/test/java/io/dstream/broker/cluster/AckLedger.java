package io.dstream.broker.cluster;

import io.nats.client.api.PublishAck;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * What the cluster acknowledged for one subject: for each {@code Nats-Msg-Id}, the payload sent and
 * the sequence of its PubAck, with when the acknowledged attempt was sent and answered. The claims
 * of the suite are checked against it: every acknowledged message is in a replica at its sequence
 * with its bytes. Thread-safe (jnats completes publishes on its own threads).
 */
final class AckLedger {

  /** One acknowledged message. */
  record Acked(String msgId, byte[] payload, long sequence, boolean duplicate, long sentNanos, long ackedNanos) {
  }

  private final String subject;
  private final Map<String, Acked> byMsgId = new ConcurrentHashMap<>();
  private final List<String> conflicts = new CopyOnWriteArrayList<>();

  AckLedger(String subject) {
    this.subject = subject;
  }

  String subject() {
    return subject;
  }

  /**
   * The payload of a message id: non-UTF-8 (so the admin API shows it as Base64, byte for byte) and
   * different for every id (so a message stored twice shows as one payload at two sequences).
   */
  static byte[] payloadOf(String msgId) {
    byte[] id = (msgId + " " + "x".repeat(40)).getBytes(StandardCharsets.US_ASCII);
    byte[] payload = new byte[id.length + 2];
    payload[0] = (byte) 0xFF;
    payload[1] = (byte) 0xFE;
    System.arraycopy(id, 0, payload, 2, id.length);
    return payload;
  }

  void record(String msgId, byte[] payload, PublishAck ack, long sentNanos) {
    long now = System.nanoTime();
    if (!subject.equals(ack.getStream())) {
      conflicts.add(msgId + " acknowledged by stream " + ack.getStream() + ", not " + subject);
    }
    Acked acked = new Acked(msgId, payload, ack.getSeqno(), ack.isDuplicate(), sentNanos, now);
    Acked earlier = byMsgId.putIfAbsent(msgId, acked);
    if (earlier != null && earlier.sequence() != acked.sequence()) {
      conflicts.add(msgId + " acknowledged at " + earlier.sequence() + " and again at " + acked.sequence());
    }
  }

  boolean isAcked(String msgId) {
    return byMsgId.containsKey(msgId);
  }

  Acked get(String msgId) {
    return byMsgId.get(msgId);
  }

  int size() {
    return byMsgId.size();
  }

  Collection<Acked> all() {
    return List.copyOf(byMsgId.values());
  }

  long maxSequence() {
    return byMsgId.values().stream().mapToLong(Acked::sequence).max().orElse(0);
  }

  /** Acknowledgements of attempts sent after {@code nanos} (System.nanoTime). */
  long ackedAfter(long nanos) {
    return byMsgId.values().stream().filter(a -> a.sentNanos() > nanos).count();
  }

  /** When the first attempt sent after {@code nanos} was acknowledged, or -1 if none was yet. */
  long firstAckOfAttemptSentAfter(long nanos) {
    return byMsgId.values().stream().filter(a -> a.sentNanos() > nanos).mapToLong(Acked::ackedNanos).min().orElse(-1);
  }

  /** No message id was acknowledged at two sequences, nor by another stream than its subject. */
  void assertNoConflict() {
    assertTrue(conflicts.isEmpty(), "conflicting acknowledgements: " + conflicts);
  }

  /** Every acknowledged message is in {@code replica} at its acknowledged sequence, byte for byte; no two ids share a sequence. */
  void assertHeldBy(Replica replica) {
    assertNoConflict();
    Map<Long, String> idAt = new ConcurrentHashMap<>();
    List<String> problems = new ArrayList<>();
    for (Acked acked : byMsgId.values()) {
      String other = idAt.putIfAbsent(acked.sequence(), acked.msgId());
      if (other != null) {
        problems.add("sequence " + acked.sequence() + " acknowledged for both " + other + " and " + acked.msgId());
      }
      byte[] stored = replica.payloadAt(acked.sequence());
      if (stored == null) {
        problems.add(acked.msgId() + " acknowledged at " + acked.sequence() + " is missing");
      } else if (!Arrays.equals(stored, acked.payload())) {
        problems.add(acked.msgId() + " acknowledged at " + acked.sequence() + " holds other bytes: "
            + new String(stored, StandardCharsets.ISO_8859_1).strip());
      }
      if (problems.size() > 10) {
        break;
      }
    }
    if (!problems.isEmpty()) {
      fail(replica.node() + " (" + subject + ", last sequence " + replica.lastSequence() + ") against "
          + byMsgId.size() + " acknowledged messages: " + problems);
    }
  }

  /**
   * {@link #assertHeldBy} and, as the suite sends every message until it is acknowledged, nothing
   * else: the replica holds exactly the acknowledged messages, gap-free from 1, none twice.
   */
  void assertExactlyIn(Replica replica) {
    assertHeldBy(replica);
    replica.assertGapFreeFromOne();
    replica.assertNoPayloadTwice();
    if (replica.messages().size() != byMsgId.size()) {
      fail(replica.node() + " holds " + replica.messages().size() + " messages of " + subject + " but "
          + byMsgId.size() + " were acknowledged (a message stored without its acknowledgement being kept?)");
    }
  }
}
