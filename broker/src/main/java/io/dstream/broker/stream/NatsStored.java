package io.dstream.broker.stream;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The stored form of a message published over the NATS protocol: its header block and payload,
 * untouched, behind a two-byte mark ({@code 0x00 0x01}) that no stored object (a JSON object) can
 * start with, then the header length as four bytes. A NATS subscriber gets back exactly what was
 * published; the other views render it ({@link StoredObject#forV1}).
 *
 * <p>The dedup key of such a message is its {@code Nats-Msg-Id} header, behind a NUL so that it can
 * never equal a protocol v1 key. Thread-safe (stateless).
 */
public final class NatsStored {

  private static final byte MARK = 0x00;
  private static final byte VERSION = 0x01;
  private static final int HEAD = 6;
  private static final byte[] MSG_ID = "nats-msg-id:".getBytes(StandardCharsets.US_ASCII);

  private NatsStored() {
  }

  /** The stored bytes of a message with {@code headers} (a NATS header block, or null) and {@code payload}. */
  public static byte[] encode(byte[] headers, byte[] payload) {
    int headerBytes = headers == null ? 0 : headers.length;
    byte[] stored = new byte[HEAD + headerBytes + payload.length];
    stored[0] = MARK;
    stored[1] = VERSION;
    stored[2] = (byte) (headerBytes >>> 24);
    stored[3] = (byte) (headerBytes >>> 16);
    stored[4] = (byte) (headerBytes >>> 8);
    stored[5] = (byte) headerBytes;
    if (headerBytes > 0) {
      System.arraycopy(headers, 0, stored, HEAD, headerBytes);
    }
    System.arraycopy(payload, 0, stored, HEAD + headerBytes, payload.length);
    return stored;
  }

  /** Whether {@code stored} is in this form. */
  public static boolean is(byte[] stored) {
    return stored.length >= HEAD && stored[0] == MARK && stored[1] == VERSION;
  }

  /** Length of the header block (0 when there is none). */
  public static int headerLength(byte[] stored) {
    return (stored[2] & 0xff) << 24 | (stored[3] & 0xff) << 16 | (stored[4] & 0xff) << 8 | stored[5] & 0xff;
  }

  /** Offset of the header block (followed by the payload). */
  public static int headerOffset() {
    return HEAD;
  }

  /** The payload bytes. */
  public static byte[] payload(byte[] stored) {
    return Arrays.copyOfRange(stored, HEAD + headerLength(stored), stored.length);
  }

  /** The header block, or null. */
  public static byte[] headers(byte[] stored) {
    int length = headerLength(stored);
    return length == 0 ? null : Arrays.copyOfRange(stored, HEAD, HEAD + length);
  }

  /** The dedup key of a publish carrying {@code Nats-Msg-Id: msgId}. */
  public static String dedupKey(String msgId) {
    return msgId == null || msgId.isEmpty() ? null : "\0" + msgId;
  }

  /** The dedup key of a stored message in this form, or null when it has no {@code Nats-Msg-Id}. */
  static String dedupKey(byte[] stored) {
    String id = header(stored, HEAD, headerLength(stored), MSG_ID);
    return dedupKey(id);
  }

  /**
   * The value of the first header named {@code lowerName} (lower case, with its colon) in the block
   * at {@code offset}, or null.
   */
  public static String header(byte[] block, int offset, int length, byte[] lowerName) {
    int end = offset + length;
    int line = offset;
    while (line < end) {
      int lineEnd = line;
      while (lineEnd < end && block[lineEnd] != '\n') {
        lineEnd++;
      }
      if (startsWithIgnoreCase(block, line, lineEnd, lowerName)) {
        int from = line + lowerName.length;
        int to = lineEnd > from && block[lineEnd - 1] == '\r' ? lineEnd - 1 : lineEnd;
        return new String(block, from, to - from, StandardCharsets.UTF_8).trim();
      }
      line = lineEnd + 1;
    }
    return null;
  }

  private static boolean startsWithIgnoreCase(byte[] block, int from, int to, byte[] lowerName) {
    if (to - from < lowerName.length) {
      return false;
    }
    for (int i = 0; i < lowerName.length; i++) {
      int c = block[from + i];
      if (c >= 'A' && c <= 'Z') {
        c += 'a' - 'A';
      }
      if (c != lowerName[i]) {
        return false;
      }
    }
    return true;
  }
}
