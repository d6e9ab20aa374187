package io.dstream.broker.store;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

/** The subject record's on-disk format: version 2 round-trips, version 1 still decodes. */
class SubjectRecordTest {

  @Test
  void versionTwoRoundTripsAttributes() {
    SubjectRecord record = SubjectRecord.empty(7).withAppend(5).withAttributes("{\"ct\":\"text/plain\"}".getBytes(StandardCharsets.UTF_8));
    SubjectRecord decoded = SubjectRecord.decode(record.encode());
    assertEquals(7, decoded.id());
    assertEquals(1, decoded.lastSequence());
    assertArrayEquals(record.attributes(), decoded.attributes());
  }

  @Test
  void versionOneDecodesWithoutAttributes() {
    byte[] state = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
    ByteBuffer v1 = ByteBuffer.allocate(1 + 5 * Long.BYTES + Integer.BYTES + state.length);
    v1.put((byte) 1).putLong(3).putLong(2).putLong(9).putLong(8).putLong(100).putInt(state.length).put(state);
    SubjectRecord decoded = SubjectRecord.decode(v1.array());
    assertEquals(3, decoded.id());
    assertEquals(9, decoded.lastSequence());
    assertArrayEquals(state, decoded.state());
    assertEquals(0, decoded.attributes().length);
  }
}
