package io.dstream.broker.files;

/**
 * A single byte range of an object of known size, from a {@code Range} header (RFC 9110 14.1.2):
 * {@code bytes=a-b}, {@code bytes=a-} and {@code bytes=-n}.
 *
 * @param first first byte offset
 * @param last  last byte offset (inclusive)
 */
record ByteRange(long first, long last) {

  /** The header answered as a whole: absent, malformed or multi-range (which a server may ignore). */
  static final ByteRange WHOLE = new ByteRange(-1, -1);
  /** A well-formed range that no byte of the object satisfies: 416. */
  static final ByteRange UNSATISFIABLE = new ByteRange(-2, -2);

  long length() {
    return last - first + 1;
  }

  String contentRange(long size) {
    return "bytes " + first + "-" + last + "/" + size;
  }

  static ByteRange parse(String header, long size) {
    if (header == null) {
      return WHOLE;
    }
    String value = header.trim();
    if (!value.regionMatches(true, 0, "bytes=", 0, 6) || value.indexOf(',') >= 0) {
      return WHOLE;
    }
    String spec = value.substring(6).trim();
    int dash = spec.indexOf('-');
    if (dash < 0) {
      return WHOLE;
    }
    String start = spec.substring(0, dash).trim();
    String end = spec.substring(dash + 1).trim();
    try {
      if (start.isEmpty()) {
        long suffix = digits(end);
        if (suffix == 0 || size == 0) {
          return UNSATISFIABLE;
        }
        return new ByteRange(Math.max(0, size - suffix), size - 1);
      }
      long first = digits(start);
      long last = end.isEmpty() ? Long.MAX_VALUE : digits(end);
      if (last < first) {
        return WHOLE;
      }
      if (first >= size) {
        return UNSATISFIABLE;
      }
      return new ByteRange(first, Math.min(last, size - 1));
    } catch (NumberFormatException e) {
      return WHOLE;
    }
  }

  private static long digits(String text) {
    if (text.isEmpty() || !text.chars().allMatch(Character::isDigit)) {
      throw new NumberFormatException(text);
    }
    return Long.parseLong(text);
  }
}
