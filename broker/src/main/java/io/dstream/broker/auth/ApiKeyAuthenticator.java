package io.dstream.broker.auth;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Checks the broker's API key. Keys are compared as SHA-256 digests with {@link MessageDigest#isEqual}, so the
 * time taken says nothing about the key. Thread-safe (immutable).
 */
public final class ApiKeyAuthenticator {

  private static final Logger LOG = LoggerFactory.getLogger(ApiKeyAuthenticator.class);
  static final String KEY_FILE = "api-key";

  private final byte[] keyDigest;

  private ApiKeyAuthenticator(String key) {
    this.keyDigest = digest(key);
  }

  /**
   * Uses {@code configuredKey} if set; otherwise the key kept in {@code dataDir/api-key}, created
   * (random, mode 600) on first start. A key from the file is logged at start so a local user can
   * find it; a configured key never is.
   */
  public static ApiKeyAuthenticator load(Path dataDir, String configuredKey) throws IOException {
    if (configuredKey != null) {
      return new ApiKeyAuthenticator(configuredKey);
    }
    Path file = dataDir.resolve(KEY_FILE);
    String key = SecretFile.readOrCreate(file);
    LOG.info("API key (from {}): {}", file, key);
    return new ApiKeyAuthenticator(key);
  }

  /** Reads the key file of a data dir, as tools and tests that start a broker on it need. */
  public static String readKeyFile(Path dataDir) throws IOException {
    return Files.readString(dataDir.resolve(KEY_FILE), StandardCharsets.UTF_8).trim();
  }

  /** True when {@code presented} is the broker's key. */
  public boolean matches(String presented) {
    return presented != null && MessageDigest.isEqual(keyDigest, digest(presented));
  }

  private static byte[] digest(String key) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(key.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is part of every JRE", e);
    }
  }
}
