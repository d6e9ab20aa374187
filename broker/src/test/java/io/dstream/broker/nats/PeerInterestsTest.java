package io.dstream.broker.nats;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Where a core message goes in a cluster: every node with a matching plain subscription, one node per
 * queue group (this one when it has a member), the announcement's bounds, and forgotten nodes.
 */
class PeerInterestsTest {

  private static final long NOW = 1_000_000;

  /** What {@code node} announces for {@code index}, sent through its JSON form as the event bus carries it. */
  private static void announce(PeerInterests peers, String node, SubjectIndex index, long nowMs) {
    peers.heard(PeerInterests.Announcement.fromJson(PeerInterests.Announcement.of(node, index).toJson()), nowMs);
  }

  private static SubjectIndex index(String... patternsAndGroups) {
    SubjectIndex index = new SubjectIndex();
    for (String entry : patternsAndGroups) {
      String[] parts = entry.split(" ");
      String queue = parts.length > 1 ? parts[1] : null;
      index.add(new Subscription(null, entry, parts[0], queue));
    }
    return index;
  }

  @Test
  void aQueueGroupWithMembersOnTwoNodesGetsEachMessageOnOneOfThemAndPlainSubscribersOnEveryNode() {
    PeerInterests peers = new PeerInterests();
    announce(peers, "b", index("svc.work workers", "svc.> "), NOW);
    announce(peers, "c", index("svc.* workers", "other.x"), NOW);
    Set<String> chosen = new HashSet<>();
    for (int i = 0; i < 200; i++) {
      Map<String, QueueGroups> targets = peers.targets("svc.work", Set.of(), NOW);
      List<String> serving = targets.entrySet().stream().filter(e -> e.getValue().serves("workers")).map(Map.Entry::getKey)
          .toList();
      assertEquals(1, serving.size(), "the group is served by exactly one node: " + targets);
      chosen.add(serving.get(0));
      assertTrue(targets.containsKey("b"), "b's plain subscription svc.> matches: " + targets);
    }
    assertEquals(Set.of("b", "c"), chosen, "the group's node is chosen among those with members");
    assertEquals(Set.of("b"), peers.targets("svc.other.deep", Set.of(), NOW).keySet());
    assertTrue(peers.targets("nothing.here", Set.of(), NOW).isEmpty());
  }

  @Test
  void aGroupWithAMemberOnThisNodeIsServedHereOnly() {
    PeerInterests peers = new PeerInterests();
    announce(peers, "b", index("svc.work workers"), NOW);
    announce(peers, "c", index("svc.work workers", "svc.work audit"), NOW);
    for (int i = 0; i < 50; i++) {
      Map<String, QueueGroups> targets = peers.targets("svc.work", Set.of("workers"), NOW);
      assertEquals(Set.of("c"), targets.keySet(), "only audit remains to be served elsewhere: " + targets);
      assertFalse(targets.get("c").serves("workers"));
      assertTrue(targets.get("c").serves("audit"));
    }
    assertTrue(peers.listening("svc.work", NOW));
    assertFalse(peers.listening("svc.rest", NOW));
  }

  @Test
  void beyondThePatternBoundANodeIsSentEverySubject() {
    String[] inboxes = new String[PeerInterests.MAX_ANNOUNCED_PATTERNS];
    for (int i = 0; i < inboxes.length; i++) {
      inboxes[i] = "_INBOX.conn" + i + ".*";
    }
    SubjectIndex index = index(inboxes);
    PeerInterests peers = new PeerInterests();
    announce(peers, "b", index, NOW);
    assertNotNull(PeerInterests.Announcement.of("b", index).plain(), "at the bound the patterns are listed");
    assertEquals(Set.of("b"), peers.targets("_INBOX.conn7.1", Set.of(), NOW).keySet());
    assertTrue(peers.listens("b", "_INBOX.conn7.1", NOW));
    assertFalse(peers.listens("b", "_INBOX.other.1", NOW));
    assertTrue(peers.targets("orders.eu", Set.of(), NOW).isEmpty());

    index.add(new Subscription(null, "one-more", "_INBOX.one-more.*", null));
    assertNull(PeerInterests.Announcement.of("b", index).plain(), "past the bound: every subject");
    announce(peers, "b", index, NOW);
    assertEquals(Set.of("b"), peers.targets("orders.eu", Set.of(), NOW).keySet());
    assertTrue(peers.listens("b", "_INBOX.other.1", NOW));
  }

  @Test
  void beyondTheQueueBoundANodeServesTheGroupsNoOtherNodeNamed() {
    String[] groups = new String[PeerInterests.MAX_ANNOUNCED_PATTERNS + 1];
    for (int i = 0; i < groups.length; i++) {
      groups[i] = "jobs." + i + " g" + i;
    }
    PeerInterests peers = new PeerInterests();
    announce(peers, "b", index(groups), NOW);
    announce(peers, "c", index("jobs.* shared"), NOW);
    Map<String, QueueGroups> targets = peers.targets("jobs.5", Set.of("local"), NOW);
    assertEquals(Set.of("b", "c"), targets.keySet());
    assertTrue(targets.get("b").serves("g5"), "an unnamed group goes to the node that could not list its groups");
    assertFalse(targets.get("b").serves("shared"), "c named shared: it is served there");
    assertFalse(targets.get("b").serves("local"), "served here");
    assertTrue(targets.get("c").serves("shared"));
    assertTrue(peers.listening("anything", NOW));
  }

  @Test
  void anAnnouncementNotRenewedWithinItsLifetimeCountsForNothing() {
    PeerInterests peers = new PeerInterests();
    announce(peers, "b", index("svc.>"), NOW);
    assertTrue(peers.listening("svc.echo", NOW + PeerInterests.TTL_MS - 1));
    assertFalse(peers.listening("svc.echo", NOW + PeerInterests.TTL_MS));
    assertTrue(peers.targets("svc.echo", Set.of(), NOW + PeerInterests.TTL_MS).isEmpty());
    announce(peers, "b", index(), NOW + PeerInterests.TTL_MS);
    assertFalse(peers.listening("svc.echo", NOW + PeerInterests.TTL_MS), "a node that unsubscribed");
  }
}
