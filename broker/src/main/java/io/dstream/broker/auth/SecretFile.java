package io.dstream.broker.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.Base64;

/**
 * A random secret kept in a file of the data dir (the generated API key, the file share key):
 * created once with 32 random bytes, readable by the broker's user only (mode 600), then read back
 * at every start. Two brokers racing to create it both end with the one that was written first.
 */
public final class SecretFile {

  private SecretFile() {
  }

  /** @return the secret in {@code file}, created first if missing */
  public static String readOrCreate(Path file) throws IOException {
    if (Files.exists(file)) {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    }
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    String secret = Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    try {
      Files.createFile(file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(file, secret, StandardCharsets.UTF_8);
      return secret;
    } catch (FileAlreadyExistsException raced) {
      return Files.readString(file, StandardCharsets.UTF_8).trim();
    }
  }
}
