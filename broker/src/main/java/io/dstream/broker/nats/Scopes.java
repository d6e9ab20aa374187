package io.dstream.broker.nats;

import io.dstream.pattern.TokenPattern;

import java.util.List;

/**
 * Whether a subscription pattern stays inside a credential's subscribe scopes: every subject the
 * pattern can match must be granted, so {@code orders.*} is inside {@code orders.>} but not inside
 * {@code orders.eu}. Thread-safe (stateless).
 */
final class Scopes {

  private Scopes() {
  }

  static boolean covers(List<TokenPattern> grants, String pattern) {
    String[] wanted = SubjectIndex.tokens(pattern);
    for (TokenPattern grant : grants) {
      if (covers(SubjectIndex.tokens(grant.toString()), wanted)) {
        return true;
      }
    }
    return false;
  }

  private static boolean covers(String[] grant, String[] wanted) {
    for (int i = 0; i < grant.length; i++) {
      if (grant[i].equals(">")) {
        return i < wanted.length;
      }
      if (i >= wanted.length || wanted[i].equals(">")) {
        return false;
      }
      if (!grant[i].equals("*") && (wanted[i].equals("*") || !grant[i].equals(wanted[i]))) {
        return false;
      }
    }
    return grant.length == wanted.length;
  }
}
