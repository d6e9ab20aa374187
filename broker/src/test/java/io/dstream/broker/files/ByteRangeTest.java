package io.dstream.broker.files;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** Range header parsing by RFC 9110 14.1.2, single ranges only. */
class ByteRangeTest {

  @Test
  void singleRangesInEveryForm() {
    assertEquals(new ByteRange(2, 5), ByteRange.parse("bytes=2-5", 10));
    assertEquals(new ByteRange(7, 9), ByteRange.parse("bytes=7-", 10));
    assertEquals(new ByteRange(7, 9), ByteRange.parse("bytes=-3", 10));
    assertEquals(new ByteRange(0, 9), ByteRange.parse("bytes=-30", 10));
    assertEquals(new ByteRange(8, 9), ByteRange.parse("bytes=8-100", 10));
    assertEquals(new ByteRange(0, 0), ByteRange.parse("BYTES=0-0", 10));
  }

  @Test
  void unsatisfiableAndIgnoredRanges() {
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=10-", 10));
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=10-20", 10));
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=-0", 10));
    assertEquals(ByteRange.UNSATISFIABLE, ByteRange.parse("bytes=0-", 0));
    assertEquals(ByteRange.WHOLE, ByteRange.parse(null, 10));
    assertEquals(ByteRange.WHOLE, ByteRange.parse("bytes=5-2", 10));
    assertEquals(ByteRange.WHOLE, ByteRange.parse("bytes=0-1,3-4", 10));
    assertEquals(ByteRange.WHOLE, ByteRange.parse("items=0-1", 10));
    assertEquals(ByteRange.WHOLE, ByteRange.parse("bytes=a-b", 10));
    assertEquals(ByteRange.WHOLE, ByteRange.parse("bytes=+1-2", 10));
  }
}
