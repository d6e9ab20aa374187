package io.dstream.broker.durablestreams;

import io.dstream.broker.stream.Subjects;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The path-to-subject mapping is reversible and always yields a valid subject. */
class StreamPathsTest {

  @Test
  void escapesEverythingButLettersDigitsDashAndUnderscore() {
    assertEquals("ds.orders~2Feu~2E1", StreamPaths.subject("orders/eu.1"));
    assertEquals("ds.a~20b~C3~A9", StreamPaths.subject("a b\u00e9"));
  }

  @Test
  void mappingIsReversibleAndValid() {
    for (String path : new String[] {"a", "a/b/c", "x.y", "~tilde", "__ds/subscriptions/1", "emoji-\uD83D\uDE00", "*>"}) {
      String subject = StreamPaths.subject(path);
      assertNull(Subjects.violation(subject), subject);
      assertEquals(path, StreamPaths.path(subject));
    }
  }

  @Test
  void emptyAndOverlongPathsHaveNoSubject() {
    assertNull(StreamPaths.subject(""));
    assertNull(StreamPaths.subject("/".repeat(100)));
    assertTrue(StreamPaths.subject("a".repeat(200)) != null);
  }

  @Test
  void offsetsSortLikePositions() {
    assertTrue(Offsets.format(9).compareTo(Offsets.format(10)) < 0);
    assertEquals(10, Offsets.position(Offsets.format(10)));
    assertEquals(Long.MAX_VALUE, Offsets.position("1_0"));
  }
}
