package io.dstream.broker.auth;

import io.dstream.pattern.TokenPattern;
import java.util.List;

/**
 * What one authenticated client may do. API keys get {@link #FULL}; a JWT gets what its
 * {@code dstream} claim grants. Immutable and thread-safe.
 *
 * @param who          who the client is, for logs: {@code api-key}, the token's {@code sub}, or {@code anonymous}
 * @param publish      subjects the client may publish to (and write state/delete on)
 * @param subscribe    subjects the client may read (subscribe, info, state)
 * @param fileRead     key prefixes the client may read or list in the file API
 * @param fileWrite    key prefixes the client may write or delete in the file API
 * @param admin        whether admin calls ({@code /metrics}, subject listings) are allowed
 * @param expiresAtMs  when the credential stops being valid (epoch ms), {@link Long#MAX_VALUE} if never
 */
public record Permissions(String who, List<TokenPattern> publish, List<TokenPattern> subscribe,
                          List<String> fileRead, List<String> fileWrite, boolean admin, long expiresAtMs) {

  private static final List<TokenPattern> EVERY_SUBJECT = List.of(TokenPattern.subjects(">"));

  /** Everything, forever: what the broker's API key grants. */
  public static final Permissions FULL =
      new Permissions("api-key", EVERY_SUBJECT, EVERY_SUBJECT, List.of(""), List.of(""), true, Long.MAX_VALUE);

  public Permissions {
    publish = List.copyOf(publish);
    subscribe = List.copyOf(subscribe);
    fileRead = List.copyOf(fileRead);
    fileWrite = List.copyOf(fileWrite);
  }

  public boolean mayPublish(String subject) {
    return publish.stream().anyMatch(p -> p.matches(subject));
  }

  public boolean maySubscribe(String subject) {
    return subscribe.stream().anyMatch(p -> p.matches(subject));
  }

  /** A socket on a subject is refused before the upgrade when it could do neither. */
  public boolean mayAttach(String subject) {
    return mayPublish(subject) || maySubscribe(subject);
  }

  /** Reading a key, or listing keys under a prefix that lies inside a granted one. */
  public boolean mayReadFile(String key) {
    return fileRead.stream().anyMatch(key::startsWith);
  }

  public boolean mayWriteFile(String key) {
    return fileWrite.stream().anyMatch(key::startsWith);
  }

  /** True when the credential has expired at {@code nowMs}. */
  public boolean expired(long nowMs) {
    return nowMs >= expiresAtMs;
  }
}
