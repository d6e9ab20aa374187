package io.dstream.broker.nats;

import java.security.SecureRandom;

/**
 * Names the broker makes up (ephemeral consumers): 22 characters of letters and digits, as
 * NATS's NUIDs look. Thread-safe.
 */
final class NatsIds {

  private static final char[] ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".toCharArray();
  private static final SecureRandom RANDOM = new SecureRandom();

  private NatsIds() {
  }

  static String next() {
    char[] id = new char[22];
    for (int i = 0; i < id.length; i++) {
      id[i] = ALPHABET[RANDOM.nextInt(ALPHABET.length)];
    }
    return new String(id);
  }
}
