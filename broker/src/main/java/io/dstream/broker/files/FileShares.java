package io.dstream.broker.files;

import io.dstream.broker.auth.Permissions;
import io.dstream.broker.auth.SecretFile;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Share links of files: {@code /r2/{key}?expires=EPOCH_SECONDS&signature=SIG} lets whoever holds it
 * GET or HEAD that one key until it expires, without a credential. The broker signs the link itself
 * (HMAC-SHA256 of key and expiry with a secret kept in {@code DATA_DIR/share-key}, mode 600), so it
 * works with the embedded S3 server and any external endpoint alike, through the broker's one port,
 * and survives restarts. A link cannot be revoked before it expires except by deleting the file or
 * the share key (which revokes every link). Thread-safe (immutable; a {@link Mac} per call).
 */
public final class FileShares {

  static final String KEY_FILE = "share-key";
  private static final String ALGORITHM = "HmacSHA256";

  private final byte[] secret;
  private final Duration maxLifetime;
  private final Clock clock;

  private FileShares(byte[] secret, Duration maxLifetime, Clock clock) {
    this.secret = secret;
    this.maxLifetime = maxLifetime;
    this.clock = clock;
  }

  /** Loads the share key of {@code dataDir}, creating it on first start. Blocking. */
  public static FileShares load(Path dataDir, Duration maxLifetime, Clock clock) throws IOException {
    byte[] secret = SecretFile.readOrCreate(dataDir.resolve(KEY_FILE)).getBytes(StandardCharsets.UTF_8);
    return new FileShares(secret, maxLifetime, clock);
  }

  /** A signed link: its path and query, and its expiry in epoch seconds. */
  record Link(String pathAndQuery, long expiresEpochSeconds) {
  }

  /**
   * Signs a link to {@code key} valid for {@code seconds}.
   *
   * @throws IllegalArgumentException if {@code seconds} is not between 1 and the configured maximum
   */
  Link sign(String key, long seconds) {
    if (seconds < 1 || seconds > maxLifetime.toSeconds()) {
      throw new IllegalArgumentException("share must be 1 to " + maxLifetime.toSeconds()
          + " seconds (DSTREAM_FILES_MAX_SHARE_SECONDS), got " + seconds);
    }
    long expires = clock.instant().getEpochSecond() + seconds;
    return new Link(path(key) + "?expires=" + expires + "&signature=" + signature(key, expires), expires);
  }

  /** @return read permission on {@code key} alone if the link is intact and unexpired, else null */
  Permissions verify(String key, String expires, String signature) {
    long expiresSeconds;
    try {
      expiresSeconds = Long.parseLong(expires);
    } catch (NumberFormatException e) {
      return null;
    }
    boolean intact = signature != null && MessageDigest.isEqual(signature(key, expiresSeconds).getBytes(StandardCharsets.UTF_8),
        signature.getBytes(StandardCharsets.UTF_8));
    if (!intact || clock.instant().getEpochSecond() >= expiresSeconds) {
      return null;
    }
    return new Permissions("share-link", List.of(), List.of(), List.of(key), List.of(), false, expiresSeconds * 1000);
  }

  private String signature(String key, long expires) {
    try {
      Mac mac = Mac.getInstance(ALGORITHM);
      mac.init(new SecretKeySpec(secret, ALGORITHM));
      byte[] digest = mac.doFinal((key + "\n" + expires).getBytes(StandardCharsets.UTF_8));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(digest);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JRE", e);
    }
  }

  /** {@code /r2/} and the key, each segment percent-encoded, the slashes kept. */
  static String path(String key) {
    StringBuilder path = new StringBuilder("/r2/");
    String[] segments = key.split("/", -1);
    for (int i = 0; i < segments.length; i++) {
      path.append(i == 0 ? "" : "/").append(URLEncoder.encode(segments[i], StandardCharsets.UTF_8).replace("+", "%20"));
    }
    return path.toString();
  }
}
