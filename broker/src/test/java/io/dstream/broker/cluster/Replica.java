package io.dstream.broker.cluster;

import io.dstream.broker.ClusterProcesses;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * One subject as one node's own store holds it, read through {@code GET /admin/subjects/{s}/messages}
 * (which in cluster mode reads the node's H2 store and needs no leader): every retained message
 * with its sequence, payload bytes and NATS header block.
 */
record Replica(String node, String subject, long lastSequence, List<Replica.Stored> messages) {

  private static final int PAGE = 1000;
  private static final Duration POLL = Duration.ofMillis(250);

  /** A stored message: the admin API shows a NATS publish as {@code {"data","encoding"?,"headers"?,"sequence"}}. */
  record Stored(long sequence, byte[] payload, String headers) {
  }

  /** The subject on {@code node}, read to its end; an empty replica when the node has no such subject (404). */
  static Replica read(ClusterProcesses cluster, String node, String subject) throws IOException, InterruptedException {
    List<Stored> messages = new ArrayList<>();
    long from = 1;
    long last;
    while (true) {
      var response = cluster.get(node, "/admin/subjects/" + ClusterProcesses.segment(subject)
          + "/messages?from=" + from + "&limit=" + PAGE);
      if (response.statusCode() == 404 && messages.isEmpty()) {
        return new Replica(node, subject, 0, List.of());
      }
      if (response.statusCode() != 200) {
        throw new IOException("messages of " + subject + " on " + node + ": " + response.statusCode() + " " + response.body());
      }
      JsonObject page = new JsonObject(response.body());
      last = page.getLong("lastSequence");
      JsonArray entries = page.getJsonArray("messages");
      for (int i = 0; i < entries.size(); i++) {
        JsonObject entry = entries.getJsonObject(i);
        JsonObject message = entry.getJsonObject("message");
        messages.add(new Stored(entry.getLong("sequence"), payload(message), message.getString("headers")));
      }
      long next = page.getLong("next");
      if (entries.isEmpty() || next > last) {
        return new Replica(node, subject, last, List.copyOf(messages));
      }
      from = next;
    }
  }

  /**
   * The bytes a NATS publisher sent, from the admin API's rendering: Base64 when they were not
   * UTF-8 (the suite's payloads never are, so their bytes come back exactly), else the text.
   */
  private static byte[] payload(JsonObject message) {
    Object data = message.getValue("data");
    if ("base64".equals(message.getString("encoding"))) {
      return Base64.getDecoder().decode((String) data);
    }
    if (data instanceof String text) {
      return text.getBytes(StandardCharsets.UTF_8);
    }
    return Json.encode(data).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Polls the subject on {@code node} until {@code done} holds for it; fails after {@code timeout}
   * with the last replica read (an unanswered read counts as not done).
   */
  static Replica await(ClusterProcesses cluster, String node, String subject, Predicate<Replica> done, Duration timeout,
                       String what) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    String last = "nothing read";
    while (true) {
      try {
        Replica replica = read(cluster, node, subject);
        if (done.test(replica)) {
          return replica;
        }
        last = "last sequence " + replica.lastSequence() + ", " + replica.messages().size() + " messages";
      } catch (IOException e) {
        last = e.toString();
      }
      if (System.nanoTime() > deadline) {
        fail(node + " did not reach " + what + " for " + subject + " within " + timeout + ": " + last);
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /**
   * Polls until every one of {@code nodes} holds the subject up to the same last sequence, at least
   * {@code atLeast}; returns their replicas in the order of {@code nodes}.
   */
  static List<Replica> awaitConverged(ClusterProcesses cluster, List<String> nodes, String subject, long atLeast,
                                      Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<Replica> replicas = new ArrayList<>();
      String state;
      try {
        for (String node : nodes) {
          replicas.add(read(cluster, node, subject));
        }
        long first = replicas.get(0).lastSequence();
        if (first >= atLeast && replicas.stream().allMatch(r -> r.lastSequence() == first
            && r.messages().size() == replicas.get(0).messages().size())) {
          return replicas;
        }
        state = replicas.stream().map(r -> r.node() + "=" + r.lastSequence()).toList().toString();
      } catch (IOException e) {
        state = e.toString();
      }
      if (System.nanoTime() > deadline) {
        fail("the replicas of " + subject + " on " + nodes + " did not converge at >= " + atLeast + " within "
            + timeout + ": " + state);
      }
      Thread.sleep(POLL.toMillis());
    }
  }

  /** Sequences 1..lastSequence, each once, in order: no gap, no duplicate. */
  void assertGapFreeFromOne() {
    for (int i = 0; i < messages.size(); i++) {
      if (messages.get(i).sequence() != i + 1) {
        fail(node + ": " + subject + " holds sequence " + messages.get(i).sequence() + " at position " + (i + 1)
            + " (gap or duplicate); around it: " + sequencesAround(i));
      }
    }
    assertEquals(lastSequence, messages.size(), node + ": " + subject + "'s last sequence against its message count");
  }

  private String sequencesAround(int index) {
    return messages.subList(Math.max(0, index - 3), Math.min(messages.size(), index + 4)).stream()
        .map(Stored::sequence).toList().toString();
  }

  /** No payload stored twice: every message the suite sends has its own bytes, so a second copy is a duplicate write. */
  void assertNoPayloadTwice() {
    Map<String, Long> seen = new HashMap<>();
    for (Stored message : messages) {
      Long earlier = seen.put(Base64.getEncoder().encodeToString(message.payload()), message.sequence());
      if (earlier != null) {
        fail(node + ": " + subject + " holds one message twice, at " + earlier + " and " + message.sequence()
            + " (a retried publish with the same Nats-Msg-Id was stored again)");
      }
    }
  }

  /** The same sequences with the same payload and headers as {@code other}. */
  void assertSameAs(Replica other) {
    assertEquals(other.lastSequence(), lastSequence, node + " against " + other.node() + ": last sequence of " + subject);
    assertEquals(other.messages().size(), messages.size(), node + " against " + other.node() + ": messages of " + subject);
    for (int i = 0; i < messages.size(); i++) {
      Stored mine = messages.get(i);
      Stored theirs = other.messages().get(i);
      if (mine.sequence() != theirs.sequence() || !Arrays.equals(mine.payload(), theirs.payload())
          || !Objects.equals(mine.headers(), theirs.headers())) {
        fail(node + " and " + other.node() + " differ on " + subject + " at position " + (i + 1) + ": sequence "
            + mine.sequence() + " vs " + theirs.sequence() + ", payload equal: " + Arrays.equals(mine.payload(), theirs.payload())
            + ", headers " + mine.headers() + " vs " + theirs.headers());
      }
    }
  }

  /** The payload at {@code sequence}, or null when the replica holds none there. */
  byte[] payloadAt(long sequence) {
    int index = (int) (sequence - 1);
    if (index >= 0 && index < messages.size() && messages.get(index).sequence() == sequence) {
      return messages.get(index).payload();
    }
    return messages.stream().filter(m -> m.sequence() == sequence).map(Stored::payload).findFirst().orElse(null);
  }
}
