package io.dstream.broker.nats;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The subscription index: wildcard matches, queue groups, and the shared match of a reply family. */
class SubjectIndexTest {

  private static Subscription sub(SubjectIndex index, String pattern, String queue) {
    Subscription subscription = new Subscription(null, pattern + "#" + queue, pattern, queue);
    index.add(subscription);
    return subscription;
  }

  @Test
  void wildcardsAndQueueGroupsMatchAsInNats() {
    SubjectIndex index = new SubjectIndex();
    Subscription all = sub(index, ">", null);
    Subscription star = sub(index, "orders.*", null);
    Subscription deep = sub(index, "orders.>", null);
    Subscription exact = sub(index, "orders.eu", "workers");
    Subscription other = sub(index, "orders.eu", "workers");
    SubjectIndex.Match match = index.match("orders.eu");
    assertEquals(List.of(all, star, deep).size(), match.plain().size());
    assertTrue(match.plain().containsAll(List.of(all, star, deep)));
    assertEquals(1, match.queues().size());
    assertTrue(match.queues().get(0).containsAll(List.of(exact, other)));
    assertEquals(List.of(all, deep).size(), index.match("orders.eu.north").plain().size());
    index.remove(star);
    assertEquals(2, index.match("orders.us").plain().size(), "a removal changes the cached answer");
  }

  @Test
  void aReplyFamilySharesOneMatchUntilATokenIsNamedLiterally() {
    SubjectIndex index = new SubjectIndex();
    Subscription inbox = sub(index, "_INBOX.abc.*", null);
    sub(index, "_INBOX.other.*", null);
    SubjectIndex.Match family = index.familyMatch("_INBOX.abc");
    assertEquals(List.of(inbox), family.plain());
    assertEquals(index.match("_INBOX.abc.17").plain(), family.plain());
    Subscription everything = sub(index, ">", null);
    assertTrue(index.familyMatch("_INBOX.abc").plain().containsAll(List.of(inbox, everything)));
    sub(index, "_INBOX.abc.5", null);
    assertNull(index.familyMatch("_INBOX.abc"), "one reply of the family is subscribed to by name: no shared match");
  }
}
