package io.dstream.broker.http;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class PathSegmentsTest {

  @Test
  void decodesPercentEscapesAsUtf8AndKeepsPlus() {
    assertEquals("zürich.a+b", PathSegments.decode("z%C3%BCrich.a+b"));
    assertEquals("a/b", PathSegments.decode("a%2Fb"));
  }

  @Test
  void refusesMalformedEscapesAndInvalidUtf8() {
    for (String bad : new String[] {"a%G1", "a%", "a%4", "%FF", "%C3"}) {
      assertThrows(IllegalArgumentException.class, () -> PathSegments.decode(bad), bad);
    }
  }
}
