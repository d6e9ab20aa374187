package io.dstream.broker.stream;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

class FetchedPagesTest {

  private static List<CachedMessage> page(long first, int count, int bytesEach) {
    List<CachedMessage> page = new ArrayList<>();
    for (long s = first; s < first + count; s++) {
      page.add(new CachedMessage(s, 0, new byte[bytesEach]));
    }
    return page;
  }

  @Test
  void findsASequenceInAnyKeptPage() {
    FetchedPages pages = new FetchedPages(4, 1_000_000);
    pages.add(page(1, 10, 10));
    pages.add(page(50, 10, 10));
    assertEquals(5, pages.get(5).sequence());
    assertEquals(59, pages.get(59).sequence());
    assertNull(pages.get(11));
    assertNull(pages.get(60));
    assertNull(pages.get(0));
  }

  @Test
  void dropsTheOldestPageOverThePageOrByteBound() {
    FetchedPages byCount = new FetchedPages(2, 1_000_000);
    byCount.add(page(1, 10, 10));
    byCount.add(page(11, 10, 10));
    byCount.add(page(21, 10, 10));
    assertNull(byCount.get(1), "the oldest of three pages goes at a bound of two");
    assertEquals(11, byCount.get(11).sequence());

    FetchedPages byBytes = new FetchedPages(8, 250);
    byBytes.add(page(1, 10, 10));
    byBytes.add(page(11, 10, 10));
    byBytes.add(page(21, 10, 10));
    assertNull(byBytes.get(1), "300 bytes kept at a bound of 250");
    assertEquals(21, byBytes.get(21).sequence());

    FetchedPages oneHugePage = new FetchedPages(8, 10);
    oneHugePage.add(page(1, 10, 10));
    assertEquals(1, oneHugePage.get(1).sequence(), "the newest page stays even over the byte bound");
  }

  @Test
  void forgetsDeletedPagesAndEverythingOnClear() {
    FetchedPages pages = new FetchedPages(4, 1_000_000);
    pages.add(page(1, 10, 10));
    pages.add(page(11, 10, 10));
    pages.dropBelow(11);
    assertNull(pages.get(10));
    assertEquals(11, pages.get(11).sequence());
    pages.clear();
    assertNull(pages.get(11));
  }
}
