package io.dstream.broker.store;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The subject record's on-disk format: version 5 round-trips the views and the state revision;
 * versions 1 to 4 still decode, their producer version and attributes becoming the records and
 * Durable Streams views, their state revision 0 for {@code {}} and 1 for any other state.
 */
class SubjectRecordTest {

  private static final byte[] STATE = "{\"a\":1}".getBytes(StandardCharsets.UTF_8);
  private static final byte[] ATTRIBUTES = "{\"ct\":\"text/plain\"}".getBytes(StandardCharsets.UTF_8);

  @Test
  void versionFiveRoundTripsViewsAndTheStateRevision() {
    SubjectRecord record = SubjectRecord.empty(7).withAppend(5, 1000).withState("a", new StoreWrite.PutState(STATE, 1))
        .withView(SubjectRecord.RECORDS_VIEW, SubjectRecord.longView(4))
        .withView("zeta", new byte[] {1, 2, 3})
        .withView(SubjectRecord.DURABLE_STREAMS_VIEW, ATTRIBUTES);
    SubjectRecord decoded = SubjectRecord.decode(record.encode());
    assertEquals(7, decoded.id());
    assertEquals(1, decoded.lastSequence());
    assertEquals(5, decoded.bytes());
    assertEquals(1000, decoded.lastTimestampMs());
    assertArrayEquals(STATE, decoded.state());
    assertEquals(1, decoded.stateRevision());
    assertEquals(4, SubjectRecord.longValue(decoded.view(SubjectRecord.RECORDS_VIEW)));
    assertArrayEquals(ATTRIBUTES, decoded.view(SubjectRecord.DURABLE_STREAMS_VIEW));
    assertArrayEquals(new byte[] {1, 2, 3}, decoded.view("zeta"));
    assertEquals(3, decoded.views().size());
  }

  @Test
  void aStatePutMustCarryTheNextRevision() {
    SubjectRecord record = SubjectRecord.empty(7).withState("a", new StoreWrite.PutState(STATE, 1));
    assertEquals(2, record.withState("a", new StoreWrite.PutState(STATE, 2)).stateRevision());
    assertThrows(StoreException.class, () -> record.withState("a", new StoreWrite.PutState(STATE, 1)));
    assertThrows(StoreException.class, () -> record.withState("a", new StoreWrite.PutState(STATE, 3)));
  }

  @Test
  void versionFourDecodesItsStateAsRevisionOneAndAnEmptyStateAsRevisionZero() {
    byte[] name = "zeta".getBytes(StandardCharsets.UTF_8);
    for (byte[] state : new byte[][] {STATE, "{}".getBytes(StandardCharsets.UTF_8)}) {
      ByteBuffer v4 = ByteBuffer.allocate(1 + 6 * Long.BYTES + 4 * Integer.BYTES + state.length + name.length + 3);
      v4.put((byte) 4).putLong(3).putLong(2).putLong(9).putLong(8).putLong(100).putLong(1234)
          .putInt(state.length).put(state).putInt(1).putInt(name.length).put(name).putInt(3).put(new byte[] {1, 2, 3});
      SubjectRecord decoded = SubjectRecord.decode(v4.array());
      assertEquals(9, decoded.lastSequence());
      assertArrayEquals(state, decoded.state());
      assertEquals(state == STATE ? 1 : 0, decoded.stateRevision());
      assertArrayEquals(new byte[] {1, 2, 3}, decoded.view("zeta"));
      SubjectRecord again = SubjectRecord.decode(decoded.encode());
      assertEquals(decoded.stateRevision(), again.stateRevision());
    }
  }

  @Test
  void versionThreeDecodesItsProducerVersionAndAttributesAsViews() {
    ByteBuffer v3 = ByteBuffer.allocate(1 + 7 * Long.BYTES + 2 * Integer.BYTES + STATE.length + ATTRIBUTES.length);
    v3.put((byte) 3).putLong(3).putLong(2).putLong(9).putLong(8).putLong(100).putLong(5).putLong(1234)
        .putInt(STATE.length).put(STATE).putInt(ATTRIBUTES.length).put(ATTRIBUTES);
    SubjectRecord decoded = SubjectRecord.decode(v3.array());
    assertEquals(9, decoded.lastSequence());
    assertEquals(1234, decoded.lastTimestampMs());
    assertEquals(5, SubjectRecord.longValue(decoded.view(SubjectRecord.RECORDS_VIEW)));
    assertArrayEquals(ATTRIBUTES, decoded.view(SubjectRecord.DURABLE_STREAMS_VIEW));
    assertArrayEquals(STATE, decoded.state());
    assertEquals(1, decoded.stateRevision());
  }

  @Test
  void versionTwoDecodesWithoutAttributes() {
    ByteBuffer v2 = ByteBuffer.allocate(1 + 7 * Long.BYTES + Integer.BYTES + STATE.length);
    v2.put((byte) 2).putLong(3).putLong(2).putLong(9).putLong(8).putLong(100).putLong(5).putLong(1234)
        .putInt(STATE.length).put(STATE);
    SubjectRecord decoded = SubjectRecord.decode(v2.array());
    assertEquals(9, decoded.lastSequence());
    assertEquals(5, SubjectRecord.longValue(decoded.view(SubjectRecord.RECORDS_VIEW)));
    assertArrayEquals(STATE, decoded.state());
    assertEquals(0, decoded.view(SubjectRecord.DURABLE_STREAMS_VIEW).length);
  }

  @Test
  void versionOneDecodesWithoutViewsOrLastTimestamp() {
    ByteBuffer v1 = ByteBuffer.allocate(1 + 5 * Long.BYTES + Integer.BYTES + STATE.length);
    v1.put((byte) 1).putLong(3).putLong(2).putLong(9).putLong(8).putLong(100).putInt(STATE.length).put(STATE);
    SubjectRecord decoded = SubjectRecord.decode(v1.array());
    assertEquals(3, decoded.id());
    assertEquals(9, decoded.lastSequence());
    assertEquals(0, decoded.lastTimestampMs());
    assertArrayEquals(STATE, decoded.state());
    assertTrue(decoded.views().isEmpty());
  }
}
