package io.dstream.broker.cluster;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PlacementTest {

  private static Placement placement(int partitions, int tokens) {
    return new Placement(TestClusterSettings.threeNodes(partitions, tokens));
  }

  @Test
  void withoutPlacementTokensASubjectIsPlacedByItsWholeNameAndOnlyLiteralSubjectsAreOnePartition() {
    Placement whole = placement(64, 0);
    Set<Integer> spread = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      String subject = "orders.eu." + i;
      assertEquals(Math.floorMod(subject.hashCode(), 64), whole.partitionOf(subject));
      spread.add(whole.partitionOf(subject));
    }
    assertTrue(spread.size() > 30, "100 subjects of one prefix over 64 partitions took only " + spread.size());
    assertTrue(whole.onePartition("orders.eu.1"));
    assertFalse(whole.onePartition("orders.>"));
    assertFalse(whole.onePartition("orders.*"));
  }

  @Test
  void withOneTokenEverySubjectOfAPrefixSharesItsPartitionAndPatternsWithALiteralFirstTokenAreOnePartition() {
    Placement first = placement(64, 1);
    int orders = first.partitionOf("orders");
    assertEquals(Math.floorMod("orders".hashCode(), 64), orders);
    for (String subject : List.of("orders.eu", "orders.eu.1", "orders.us.west.2", "orders.>", "orders.*.1")) {
      assertEquals(orders, first.partitionOf(subject), subject);
    }
    Set<Integer> prefixes = new HashSet<>();
    for (int i = 0; i < 100; i++) {
      prefixes.add(first.partitionOf("p" + i + ".x"));
    }
    assertTrue(prefixes.size() > 30, "100 prefixes over 64 partitions took only " + prefixes.size());
    // The broker's own subjects are spread by their whole name, not gathered under "$DS".
    assertEquals(Math.floorMod("$DS.JS.C.ORDERS".hashCode(), 64), first.partitionOf("$DS.JS.C.ORDERS"));
    assertTrue(first.onePartition("orders.>"));
    assertTrue(first.onePartition("orders.*.created"));
    assertTrue(first.onePartition("orders"));
    assertFalse(first.onePartition("*.orders"), "a wildcard in the placement key");
    assertFalse(first.onePartition(">"));
    assertFalse(first.onePartition("$KV.>"), "the broker's own subjects are placed by their whole name");
  }

  @Test
  void withTwoTokensAPatternNeedsBothLiteralAndMoreAfterThem() {
    Placement two = placement(64, 2);
    assertEquals(two.partitionOf("orders.eu"), two.partitionOf("orders.eu.1.x"));
    assertTrue(two.onePartition("orders.eu.>"));
    assertFalse(two.onePartition("orders.>"), "orders.eu.1 and orders.us.1 have different keys");
    assertFalse(two.onePartition("orders.*"), "its subjects are their own keys");
  }

  @Test
  void theDataRefusesAnotherPlacementThanItWasWrittenWith(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("raft-placement");
    placement(16, 1).pin(file, false);
    placement(16, 1).pin(file, true);
    IOException tokens = assertThrows(IOException.class, () -> placement(16, 0).pin(file, true));
    assertTrue(tokens.getMessage().contains("placed with partitions=16 placementTokens=1")
        && tokens.getMessage().contains("not with partitions=16 placementTokens=0"), tokens.getMessage());
    IOException partitions = assertThrows(IOException.class, () -> placement(8, 1).pin(file, true));
    assertTrue(partitions.getMessage().contains("not with partitions=8 placementTokens=1"), partitions.getMessage());
  }

  @Test
  void dataFromBeforeTheRecordWasPlacedByWholeSubjects(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("raft-placement");
    IOException tokens = assertThrows(IOException.class, () -> placement(16, 1).pin(file, true));
    assertTrue(tokens.getMessage().contains("placed with partitions=16 placementTokens=0"), tokens.getMessage());
    placement(16, 0).pin(file, true);
  }
}
