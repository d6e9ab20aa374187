package io.dstream.broker.nats;

/**
 * Relations between NATS subject patterns ({@code *} one token, a final {@code >} one or more),
 * which JetStream's rules need beyond matching one subject: whether two patterns can match a common
 * subject (overlapping streams, work-queue consumers), whether one covers every subject of another
 * (a consumer's filter inside its stream), and the literal prefix every match starts with (where a
 * sorted subject listing starts and stops). Stateless; patterns are valid ones.
 */
final class SubjectPatterns {

  private SubjectPatterns() {
  }

  static boolean isPattern(String subject) {
    for (String token : subject.split("\\.", -1)) {
      if (token.equals("*") || token.equals(">")) {
        return true;
      }
    }
    return false;
  }

  /** Whether some subject matches both {@code a} and {@code b}. */
  static boolean overlap(String a, String b) {
    String[] left = a.split("\\.", -1);
    String[] right = b.split("\\.", -1);
    for (int i = 0; i < Math.max(left.length, right.length); i++) {
      if (i < left.length && left[i].equals(">") || i < right.length && right[i].equals(">")) {
        return i < left.length && i < right.length;
      }
      if (i >= left.length || i >= right.length) {
        return false;
      }
      if (!left[i].equals("*") && !right[i].equals("*") && !left[i].equals(right[i])) {
        return false;
      }
    }
    return true;
  }

  /** Whether every subject {@code inner} matches also matches {@code outer}. */
  static boolean covers(String outer, String inner) {
    String[] out = outer.split("\\.", -1);
    String[] in = inner.split("\\.", -1);
    for (int i = 0; i < out.length; i++) {
      if (i >= in.length) {
        return false;
      }
      if (out[i].equals(">")) {
        return true;
      }
      if (in[i].equals(">") || !out[i].equals("*") && !out[i].equals(in[i])) {
        return false;
      }
    }
    return out.length == in.length;
  }

  /** The literal tokens before the first wildcard, with their trailing dot ({@code "orders."} for {@code orders.*.eu}); "" if it starts with one. */
  static String literalPrefix(String pattern) {
    StringBuilder prefix = new StringBuilder();
    for (String token : pattern.split("\\.", -1)) {
      if (token.equals("*") || token.equals(">")) {
        break;
      }
      prefix.append(token).append('.');
    }
    return prefix.toString();
  }
}
