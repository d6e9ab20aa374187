package io.dstream.broker.http;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Strict percent-decoding of a URL path segment: {@code %XX} escapes become bytes, the bytes must be
 * UTF-8, and {@code +} stays a plus (unlike form decoding). A path Netty decoded from the request
 * line holds each raw byte above 0x7f as one character of the same value (ISO-8859-1), so such a
 * character is taken as that byte: raw UTF-8 in a path reads as the same text as its
 * percent-encoding.
 */
public final class PathSegments {

  private PathSegments() {
  }

  public static String decode(String raw) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(raw.length());
    for (int i = 0; i < raw.length(); i++) {
      char c = raw.charAt(i);
      if (c != '%') {
        if (c <= 0xff) {
          bytes.write(c);
        } else {
          bytes.writeBytes(String.valueOf(c).getBytes(StandardCharsets.UTF_8));
        }
        continue;
      }
      if (i + 2 >= raw.length() || Character.digit(raw.charAt(i + 1), 16) < 0 || Character.digit(raw.charAt(i + 2), 16) < 0) {
        throw new IllegalArgumentException("malformed percent-encoding at position " + i);
      }
      bytes.write(Integer.parseInt(raw.substring(i + 1, i + 3), 16));
      i += 2;
    }
    try {
      return StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(bytes.toByteArray())).toString();
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("not valid UTF-8 after percent-decoding");
    }
  }

  /**
   * True if a segment of the raw path is {@code .} or {@code ..}, also percent-encoded: the router
   * resolves those before matching, so {@code /stream/..} would otherwise reach another route.
   */
  public static boolean hasDotSegment(String rawPath) {
    for (String segment : rawPath.split("/", -1)) {
      String plain = segment.replace("%2e", ".").replace("%2E", ".");
      if (plain.equals(".") || plain.equals("..")) {
        return true;
      }
    }
    return false;
  }
}
