package io.dstream.broker.durablestreams;

import java.util.regex.Pattern;

/**
 * Offsets of the Durable Streams view: {@code 0000000000000000_} followed by the message's logical
 * position, both zero-padded to 16 digits, so that string order is position order as the protocol
 * requires. Position 0 (the zero offset) is before the first message; a fork continues the positions
 * of its source. The first part is reserved (always zero here) for the reference server's format.
 */
final class Offsets {

  static final String BEFORE_START = "-1";
  static final String NOW = "now";
  static final String ZERO = format(0);
  private static final Pattern FORMAT = Pattern.compile("\\d+_\\d+");

  private Offsets() {
  }

  static String format(long position) {
    return String.format("%016d_%016d", 0L, position);
  }

  /** Whether {@code offset} has the shape {@code digits_digits}. */
  static boolean wellFormed(String offset) {
    return FORMAT.matcher(offset).matches();
  }

  /**
   * The position of a well-formed offset. Offsets this broker never issues are placed by string
   * order: a non-zero first part or a position too large for a long lies after every message.
   */
  static long position(String offset) {
    int underscore = offset.indexOf('_');
    String epoch = offset.substring(0, underscore);
    String position = offset.substring(underscore + 1);
    if (!epoch.chars().allMatch(c -> c == '0') || position.replaceFirst("^0+", "").length() > 18) {
      return Long.MAX_VALUE;
    }
    return Long.parseLong(position);
  }
}
