package io.dstream.broker.durablestreams;

import java.util.Arrays;

/** Subscription patterns over stream paths: {@code *} matches one segment, {@code **} zero or more. */
final class Globs {

  private Globs() {
  }

  static boolean matches(String pattern, String path) {
    return match(segments(pattern), 0, segments(path), 0);
  }

  /** Leading and trailing slashes removed, empty segments dropped. */
  static String normalize(String path) {
    return String.join("/", segments(path));
  }

  private static String[] segments(String path) {
    return Arrays.stream(path.split("/")).filter(s -> !s.isEmpty()).toArray(String[]::new);
  }

  private static boolean match(String[] pattern, int p, String[] path, int s) {
    while (p < pattern.length && s < path.length) {
      String segment = pattern[p];
      if (segment.equals("**")) {
        for (int i = s; i <= path.length; i++) {
          if (match(pattern, p + 1, path, i)) {
            return true;
          }
        }
        return false;
      }
      if (!segment.equals("*") && !segment.replaceAll("%2[Aa]", "*").equals(path[s])) {
        return false;
      }
      p++;
      s++;
    }
    while (p < pattern.length && pattern[p].equals("**")) {
      p++;
    }
    return p == pattern.length && s == path.length;
  }
}
