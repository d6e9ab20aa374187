package io.dstream.broker.archive;

import com.github.luben.zstd.ZstdInputStream;
import io.dstream.broker.store.StoredMessage;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The segment and manifest formats as documented in their classes and docs/storage.md. */
class FormatsTest {

  private static List<StoredMessage> messages(long first, int count) {
    List<StoredMessage> messages = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      messages.add(new StoredMessage(first + i, 1_000 + i, ("{\"n\":" + (first + i) + "}").getBytes(StandardCharsets.UTF_8)));
    }
    return messages;
  }

  @Test
  void aSegmentRoundTripsAndIsAPlainZstdFrameWithItsHeader() throws IOException {
    Segment segment = new Segment("orders.eu", messages(41, 3));
    byte[] encoded = segment.encode();
    assertSegmentOfThreeFrom41(Segment.decode(encoded), segment);
    ByteArrayOutputStream raw = new ByteArrayOutputStream();
    try (ZstdInputStream unzstd = new ZstdInputStream(new ByteArrayInputStream(encoded))) {
      unzstd.transferTo(raw);
    }
    byte[] plain = raw.toByteArray();
    assertEquals(Segment.MAGIC, (plain[0] & 0xff) << 24 | (plain[1] & 0xff) << 16 | (plain[2] & 0xff) << 8 | (plain[3] & 0xff));
    assertEquals(Segment.VERSION, plain[4]);
  }

  /** A bucket checkpointed before zstd keeps its gzip segments: the file is one written by that code. */
  @Test
  void aGzipSegmentWrittenBeforeZstdStillDecodes() throws IOException {
    byte[] written;
    try (InputStream in = FormatsTest.class.getResourceAsStream("/archive/segment-gzip.seg.gz")) {
      written = in.readAllBytes();
    }
    assertEquals(0x1f, written[0] & 0xff);
    assertEquals(0x8b, written[1] & 0xff);
    assertSegmentOfThreeFrom41(Segment.decode(written), new Segment("orders.eu", messages(41, 3)));
  }

  private static void assertSegmentOfThreeFrom41(Segment decoded, Segment expected) {
    assertEquals("orders.eu", decoded.subject());
    assertEquals(41, decoded.firstSequence());
    assertEquals(43, decoded.lastSequence());
    assertEquals(1_000, decoded.firstTimestampMs());
    assertEquals(1_002, decoded.lastTimestampMs());
    for (int i = 0; i < 3; i++) {
      assertEquals(expected.messages().get(i).sequence(), decoded.messages().get(i).sequence());
      assertArrayEquals(expected.messages().get(i).payload(), decoded.messages().get(i).payload());
    }
  }

  @Test
  void aCorruptOrForeignObjectIsRefused() {
    assertThrows(IOException.class, () -> Segment.decode("not zstd".getBytes(StandardCharsets.UTF_8)));
    byte[] encoded = new Segment("s", messages(1, 2)).encode();
    byte[] truncated = Arrays.copyOf(encoded, encoded.length / 2);
    assertThrows(IOException.class, () -> Segment.decode(truncated));
    assertThrows(IllegalArgumentException.class, () -> new Segment("s", List.of()));
  }

  @Test
  void aManifestRoundTripsFindsSegmentsAndDropsThoseWhollyBelowTheFirstSequence() {
    Manifest.SegmentRef first = new Manifest.SegmentRef("k1", 1, 10, 100, 190, 10, 500);
    Manifest.SegmentRef second = new Manifest.SegmentRef("k2", 11, 25, 200, 290, 15, 750);
    Manifest manifest = Manifest.empty("a.b").next(1, 25, "{\"cursor\":3}", 5, 7, 290, new byte[] {1, 2}, 999,
        List.of(first, second));
    Manifest decoded = Manifest.decode(manifest.encode());
    assertEquals(manifest.subject(), decoded.subject());
    assertEquals(25, decoded.lastSequence());
    assertEquals("{\"cursor\":3}", decoded.state());
    assertEquals(5, decoded.stateRevision());
    assertEquals(7, decoded.producerVersion());
    assertEquals(290, decoded.lastTimestamp());
    assertArrayEquals(new byte[] {1, 2}, decoded.attributes());
    assertEquals(List.of(first, second), decoded.segments());
    assertTrue(decoded.hasContent());

    assertEquals(first, decoded.segmentContaining(1));
    assertEquals(first, decoded.segmentContaining(10));
    assertEquals(second, decoded.segmentContaining(11));
    assertNull(decoded.segmentContaining(26));
    assertNull(decoded.segmentContaining(0));

    Manifest trimmed = decoded.next(11, 25, decoded.state(), decoded.stateRevision(), 7, 290, decoded.attributes(), 1_000, List.of());
    assertEquals(List.of(second), trimmed.segments());
    assertEquals(List.of("k1"), decoded.droppedIn(trimmed));
    assertEquals(List.of(), trimmed.droppedIn(trimmed));
  }

  @Test
  void aManifestWrittenBeforeRevisionsReadsItsStateAsRevisionOneOrZeroWhenEmpty() {
    String old = "{\"format\":1,\"subject\":\"a.b\",\"firstSequence\":1,\"lastSequence\":0,\"state\":%s,"
        + "\"producerVersion\":0,\"lastTimestamp\":0,\"attributes\":\"\",\"checkpointedAt\":1,\"segments\":[]}";
    Manifest set = Manifest.decode(String.format(old, "\"{\\\"cursor\\\":3}\"").getBytes(StandardCharsets.UTF_8));
    assertEquals("{\"cursor\":3}", set.state());
    assertEquals(1, set.stateRevision());
    Manifest never = Manifest.decode(String.format(old, "\"{}\"").getBytes(StandardCharsets.UTF_8));
    assertEquals(0, never.stateRevision());
    assertFalse(never.hasContent());
  }

  @Test
  void statesCompareInTheirCompactForm() {
    assertEquals("{\"a\":1}", Manifest.normalizeState("{ \"a\" : 1 }".getBytes(StandardCharsets.UTF_8)));
    assertFalse(Manifest.empty("x").hasContent());
  }
}
