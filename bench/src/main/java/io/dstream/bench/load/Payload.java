package io.dstream.bench.load;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The 128-byte message body every system gets: the publish time ({@link System#nanoTime}, 19 digits,
 * comparable because publisher and subscribers share this JVM) padded with ASCII. Ours carries it as
 * a JSON string, so its {@code data} value is exactly 128 bytes including the quotes.
 */
final class Payload {

  static final int SIZE = 128;
  private static final int TIME_DIGITS = 19;
  private static final byte[] PADDING = new byte[SIZE];

  static {
    Arrays.fill(PADDING, (byte) 'x');
  }

  private Payload() {
  }

  /** Raw bytes for NATS and Redis. */
  static byte[] bytes(long nanos) {
    byte[] body = PADDING.clone();
    writeTime(body, 0, nanos);
    return body;
  }

  /** A 128-character string for Redis' string API. */
  static String text(long nanos) {
    return new String(bytes(nanos), StandardCharsets.US_ASCII);
  }

  /** Ours: a protocol v1 publish frame whose {@code data} is a 128-byte JSON string. */
  static String v1Publish(long nanos, long cMsgId) {
    byte[] body = PADDING.clone();
    body[0] = '"';
    writeTime(body, 1, nanos);
    body[SIZE - 1] = '"';
    return "{\"data\":" + new String(body, StandardCharsets.US_ASCII) + ",\"cMsgId\":" + cMsgId + ",\"clientId\":1}";
  }

  /** A 128-byte JSON string (quotes included) starting with the publish time: a record of the HTTP views. */
  static String jsonString(long nanos) {
    byte[] body = PADDING.clone();
    body[0] = '"';
    writeTime(body, 1, nanos);
    body[SIZE - 1] = '"';
    return new String(body, StandardCharsets.US_ASCII);
  }

  /** The publish time in a JSON string {@link #jsonString} made, which starts at {@code offset} of {@code text}. */
  static long nanosOfJson(String text, int offset) {
    long value = 0;
    for (int i = offset + 1; i <= offset + TIME_DIGITS; i++) {
      value = value * 10 + (text.charAt(i) - '0');
    }
    return value;
  }

  /** The publish time in raw bytes. */
  static long nanos(byte[] body) {
    return readTime(body, 0);
  }

  /** The publish time in a v1 push, which starts with {@code {"data":"}. */
  static long nanos(String v1Push) {
    long value = 0;
    int start = "{\"data\":\"".length();
    for (int i = start; i < start + TIME_DIGITS; i++) {
      value = value * 10 + (v1Push.charAt(i) - '0');
    }
    return value;
  }

  /** The publish time in a Redis string field. */
  static long nanosOfText(String text) {
    long value = 0;
    for (int i = 0; i < TIME_DIGITS; i++) {
      value = value * 10 + (text.charAt(i) - '0');
    }
    return value;
  }

  private static void writeTime(byte[] body, int offset, long nanos) {
    long value = Math.max(0, nanos);
    for (int i = offset + TIME_DIGITS - 1; i >= offset; i--) {
      body[i] = (byte) ('0' + value % 10);
      value /= 10;
    }
  }

  private static long readTime(byte[] body, int offset) {
    long value = 0;
    for (int i = offset; i < offset + TIME_DIGITS; i++) {
      value = value * 10 + (body[i] - '0');
    }
    return value;
  }
}
