package io.dstream.broker.config;

import java.util.List;

/**
 * How JWT bearer tokens are checked. Exactly one of {@code secret} (HS256) and
 * {@code publicKeyPem} (RS256 or ES256, told apart by the key type) is set, or neither (no JWTs).
 *
 * @param secret       the HS256 shared secret, or null
 * @param publicKeyPem the PEM text of an RSA or EC public key, or null
 * @param issuer       required {@code iss}, or null to accept any
 * @param audience     accepted {@code aud} values; empty accepts any
 */
public record JwtSettings(String secret, String publicKeyPem, String issuer, List<String> audience) {

  public static final JwtSettings DISABLED = new JwtSettings(null, null, null, List.of());

  public JwtSettings {
    if (secret != null && publicKeyPem != null) {
      throw new IllegalArgumentException("set either the JWT secret or the JWT public key, not both");
    }
    audience = List.copyOf(audience);
  }

  public boolean enabled() {
    return secret != null || publicKeyPem != null;
  }
}
