package io.dstream.broker.nats;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The core subscriptions of the other nodes of a cluster, as each announced them, and where a core
 * message (an ephemeral publish, or a leader's durable batch) goes from here: to every node with a
 * plain subscription its subject matches, and, for each queue group it matches, to one node only.
 * A group with a member on the message's own node is served there (nats-server prefers local
 * members too); else one node that announced members of it is chosen at random, per message.
 *
 * <p>Bounds: an announcement lists at most {@link #MAX_ANNOUNCED_PATTERNS} plain patterns and as
 * many queue patterns (a pattern with its group). A node with more plain patterns announces
 * "every subject" and is sent every core message of the cluster. A node with more queue patterns
 * announces "any group": for the groups no node named, one such node is chosen to serve all of
 * them, so a group whose members are only on over-bound nodes misses the messages sent to another.
 * An announcement unheard for {@link #TTL_MS} counts for nothing (its node is gone).
 *
 * <p>Thread-safe: an announcement replaces its node's entry whole; lookups run on any thread.
 */
final class PeerInterests {

  static final int MAX_ANNOUNCED_PATTERNS = 1000;
  static final long TTL_MS = 5_000;

  /**
   * One node's core subscriptions: the patterns of its plain subscriptions ({@code plain}, null for
   * every subject) and of its queue subscriptions with their groups ({@code queues}, null for more
   * than the bound).
   */
  record Announcement(String node, List<String> plain, List<SubjectIndex.Interest> queues) {

    /** What this node's {@code index} holds now, within the bounds. */
    static Announcement of(String node, SubjectIndex index) {
      return new Announcement(node, index.plainPatterns(MAX_ANNOUNCED_PATTERNS),
          index.queueInterests(MAX_ANNOUNCED_PATTERNS));
    }

    JsonObject toJson() {
      JsonObject json = new JsonObject().put("node", node);
      if (plain == null) {
        json.put("all", true);
      } else {
        json.put("patterns", new JsonArray(plain));
      }
      if (queues == null) {
        json.put("anyGroup", true);
      } else {
        JsonArray list = new JsonArray();
        queues.forEach(interest -> list.add(new JsonArray().add(interest.pattern()).add(interest.queue())));
        json.put("queues", list);
      }
      return json;
    }

    static Announcement fromJson(JsonObject json) {
      List<String> plain = null;
      if (!json.getBoolean("all", false)) {
        plain = new ArrayList<>();
        for (Object pattern : json.getJsonArray("patterns", new JsonArray())) {
          plain.add((String) pattern);
        }
      }
      List<SubjectIndex.Interest> queues = null;
      if (!json.getBoolean("anyGroup", false)) {
        queues = new ArrayList<>();
        for (Object pair : json.getJsonArray("queues", new JsonArray())) {
          JsonArray interest = (JsonArray) pair;
          queues.add(new SubjectIndex.Interest(interest.getString(0), interest.getString(1)));
        }
      }
      return new Announcement(json.getString("node"), plain, queues);
    }
  }

  /**
   * What one node announced, as a trie of its patterns: under each, {@link #PLAIN} for its plain
   * subscriptions and the names of its queue groups.
   */
  private record Heard(Announcement announcement, TokenTrie<String> trie, long receivedMs) {
  }

  /** What a subject matches on one node: whether a plain subscription, and which queue groups. */
  private record Found(boolean plain, Set<String> groups) {
    static Found in(TokenTrie<String> trie, String[] tokens) {
      List<String> values = new ArrayList<>();
      trie.collect(tokens, values);
      Set<String> groups = new HashSet<>(values);
      boolean plain = groups.remove(PLAIN);
      return new Found(plain, groups);
    }
  }

  /** Filed for a plain subscription: no queue group has this name, as a group is a token of a SUB line, never empty. */
  private static final String PLAIN = "";

  private final Map<String, Heard> heard = new ConcurrentHashMap<>();

  /** Takes {@code announcement} as its node's interest from now on. */
  void heard(Announcement announcement, long nowMs) {
    Heard previous = heard.get(announcement.node());
    TokenTrie<String> trie = previous != null && previous.announcement().equals(announcement) ? previous.trie()
        : trie(announcement);
    heard.put(announcement.node(), new Heard(announcement, trie, nowMs));
  }

  private static TokenTrie<String> trie(Announcement announcement) {
    TokenTrie<String> trie = new TokenTrie<>();
    if (announcement.plain() != null) {
      for (String pattern : announcement.plain()) {
        trie.add(SubjectIndex.tokens(pattern), PLAIN);
      }
    }
    if (announcement.queues() != null) {
      for (SubjectIndex.Interest interest : announcement.queues()) {
        trie.add(SubjectIndex.tokens(interest.pattern()), interest.queue());
      }
    }
    return trie;
  }

  /** Whether another node has a subscription, plain or in a group, that {@code subject} matches. */
  boolean listening(String subject, long nowMs) {
    if (heard.isEmpty()) {
      return false;
    }
    String[] tokens = null;
    for (Heard node : heard.values()) {
      if (nowMs - node.receivedMs() >= TTL_MS) {
        continue;
      }
      Announcement announcement = node.announcement();
      if (announcement.plain() == null || announcement.queues() == null) {
        return true;
      }
      if (tokens == null) {
        tokens = SubjectIndex.tokens(subject);
      }
      Found found = Found.in(node.trie(), tokens);
      if (found.plain() || !found.groups().isEmpty()) {
        return true;
      }
    }
    return false;
  }

  /** Whether {@code node} announced a plain subscription that {@code subject} matches. */
  boolean listens(String node, String subject, long nowMs) {
    Heard entry = heard.get(node);
    if (entry == null || nowMs - entry.receivedMs() >= TTL_MS) {
      return false;
    }
    if (entry.announcement().plain() == null) {
      return true;
    }
    return Found.in(entry.trie(), SubjectIndex.tokens(subject)).plain();
  }

  /**
   * The other nodes a core message of {@code subject} goes to, each with the queue groups it
   * delivers it to; {@code servedHere} are the groups with a member on this node, which serves them.
   * Empty when no other node listens.
   */
  Map<String, QueueGroups> targets(String subject, Set<String> servedHere, long nowMs) {
    if (heard.isEmpty()) {
      return Map.of();
    }
    String[] tokens = SubjectIndex.tokens(subject);
    Map<String, QueueGroups> targets = new HashMap<>();
    Map<String, List<String>> members = new HashMap<>();
    List<String> anyGroup = new ArrayList<>();
    for (Map.Entry<String, Heard> entry : heard.entrySet()) {
      Heard node = entry.getValue();
      if (nowMs - node.receivedMs() >= TTL_MS) {
        continue;
      }
      Found found = Found.in(node.trie(), tokens);
      if (found.plain() || node.announcement().plain() == null) {
        targets.put(entry.getKey(), QueueGroups.NONE);
      }
      for (String group : found.groups()) {
        if (!servedHere.contains(group)) {
          members.computeIfAbsent(group, g -> new ArrayList<>()).add(entry.getKey());
        }
      }
      if (node.announcement().queues() == null) {
        anyGroup.add(entry.getKey());
      }
    }
    Map<String, Set<String>> chosen = new HashMap<>();
    members.forEach((group, nodes) -> chosen.computeIfAbsent(pick(nodes), n -> new HashSet<>()).add(group));
    chosen.forEach((node, groups) -> targets.put(node, new QueueGroups(false, Set.copyOf(groups))));
    if (!anyGroup.isEmpty()) {
      // The groups it may hold are unknown here: it serves all but those served here or named elsewhere.
      String node = pick(anyGroup);
      Set<String> servedElsewhere = new HashSet<>(servedHere);
      servedElsewhere.addAll(members.keySet());
      servedElsewhere.removeAll(chosen.getOrDefault(node, Set.of()));
      targets.put(node, new QueueGroups(true, Set.copyOf(servedElsewhere)));
    }
    return targets;
  }

  private static String pick(List<String> nodes) {
    return nodes.size() == 1 ? nodes.get(0) : nodes.get(ThreadLocalRandom.current().nextInt(nodes.size()));
  }
}
