package io.dstream.broker.store;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The subject record's on-disk format: version 3 round-trips the view attributes; versions 1 and 2 still decode. */
class SubjectRecordTest {

  private static final byte[] STATE = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);

  @Test
  void versionThreeRoundTripsAttributes() {
    SubjectRecord record = SubjectRecord.empty(7).withAppend(5, 1000).withProducerVersion(4)
        .withAttributes("{\"ct\":\"text/plain\"}".getBytes(StandardCharsets.UTF_8));
    SubjectRecord decoded = SubjectRecord.decode(record.encode());
    assertEquals(7, decoded.id());
    assertEquals(1, decoded.lastSequence());
    assertEquals(4, decoded.producerVersion());
    assertEquals(1000, decoded.lastTimestampMs());
    assertArrayEquals(record.attributes(), decoded.attributes());
  }

  @Test
  void versionTwoDecodesWithoutAttributes() {
    ByteBuffer v2 = ByteBuffer.allocate(1 + 7 * Long.BYTES + Integer.BYTES + STATE.length);
    v2.put((byte) 2).putLong(3).putLong(2).putLong(9).putLong(8).putLong(100).putLong(5).putLong(1234)
        .putInt(STATE.length).put(STATE);
    SubjectRecord decoded = SubjectRecord.decode(v2.array());
    assertEquals(9, decoded.lastSequence());
    assertEquals(5, decoded.producerVersion());
    assertArrayEquals(STATE, decoded.state());
    assertEquals(0, decoded.attributes().length);
  }

  @Test
  void versionOneDecodesWithoutAttributes() {
    ByteBuffer v1 = ByteBuffer.allocate(1 + 5 * Long.BYTES + Integer.BYTES + STATE.length);
    v1.put((byte) 1).putLong(3).putLong(2).putLong(9).putLong(8).putLong(100).putInt(STATE.length).put(STATE);
    SubjectRecord decoded = SubjectRecord.decode(v1.array());
    assertEquals(3, decoded.id());
    assertEquals(9, decoded.lastSequence());
    assertArrayEquals(STATE, decoded.state());
    assertEquals(0, decoded.attributes().length);
  }
}
