package io.dstream.broker.durablestreams;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.security.Signature;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Map;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The keys of the subscription APIs: an Ed25519 key pair that signs webhook bodies
 * ({@code webhook-signature: t=<unix s>,kid=<kid>,ed25519=<base64url sig of "t.body">}, public key at
 * {@code /v1/stream/__ds/jwks.json}) and an HMAC key for wake tokens
 * ({@code base64url(json{sub,epoch,exp,jti}).base64url(hmac)}). Both are made at start and live
 * in memory, like the subscriptions they serve. Thread-safe.
 */
final class WebhookSigner {

  /** A checked wake token: valid with its epoch, or the error code. */
  record TokenCheck(boolean valid, String code, long epoch) {
  }

  private static final long TOKEN_TTL_SECONDS = 3600;
  private static final int ED25519_PUBLIC_KEY_BYTES = 32;

  private final KeyPair keys;
  private final String publicX;
  private final String kid;
  private final byte[] tokenKey = new byte[32];
  private final SecureRandom random = new SecureRandom();

  WebhookSigner() {
    try {
      keys = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
      byte[] encoded = keys.getPublic().getEncoded();
      // X.509 SubjectPublicKeyInfo of Ed25519: a fixed 12-byte header, then the raw 32-byte key.
      publicX = base64Url(Arrays.copyOfRange(encoded, encoded.length - ED25519_PUBLIC_KEY_BYTES, encoded.length));
      String thumbprint = "{\"crv\":\"Ed25519\",\"kty\":\"OKP\",\"x\":\"" + publicX + "\"}";
      kid = "ds_" + base64Url(MessageDigest.getInstance("SHA-256").digest(thumbprint.getBytes(StandardCharsets.UTF_8)));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("Ed25519 and SHA-256 are part of every Java 17 runtime", e);
    }
    random.nextBytes(tokenKey);
  }

  String kid() {
    return kid;
  }

  JsonObject jwks() {
    return new JsonObject().put("keys", new JsonArray().add(new JsonObject().put("kty", "OKP").put("crv", "Ed25519")
        .put("x", publicX).put("kid", kid).put("use", "sig").put("alg", "EdDSA")));
  }

  String sign(String body, long nowMs) {
    long timestamp = nowMs / 1000;
    try {
      Signature signature = Signature.getInstance("Ed25519");
      signature.initSign(keys.getPrivate());
      signature.update((timestamp + "." + body).getBytes(StandardCharsets.UTF_8));
      return "t=" + timestamp + ",kid=" + kid + ",ed25519=" + base64Url(signature.sign());
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("signing with a fresh Ed25519 key failed", e);
    }
  }

  String wakeId() {
    byte[] id = new byte[12];
    random.nextBytes(id);
    return "w_" + HexFormat.of().formatHex(id);
  }

  String token(String subject, long epoch, long nowMs) {
    byte[] jti = new byte[8];
    random.nextBytes(jti);
    String payload = base64Url(new JsonObject(Map.of("sub", subject, "epoch", epoch,
        "exp", nowMs / 1000 + TOKEN_TTL_SECONDS, "jti", HexFormat.of().formatHex(jti))).encode()
        .getBytes(StandardCharsets.UTF_8));
    return payload + "." + base64Url(hmac(payload));
  }

  TokenCheck check(String token, String subject, long nowMs) {
    String[] parts = token.split("\\.");
    if (parts.length != 2 || !MessageDigest.isEqual(parts[1].getBytes(StandardCharsets.UTF_8),
        base64Url(hmac(parts[0])).getBytes(StandardCharsets.UTF_8))) {
      return new TokenCheck(false, "TOKEN_INVALID", 0);
    }
    JsonObject payload;
    try {
      payload = new JsonObject(new String(Base64.getUrlDecoder().decode(parts[0]), StandardCharsets.UTF_8));
    } catch (RuntimeException e) {
      return new TokenCheck(false, "TOKEN_INVALID", 0);
    }
    if (!subject.equals(payload.getString("sub"))) {
      return new TokenCheck(false, "TOKEN_INVALID", 0);
    }
    if (nowMs / 1000 > payload.getLong("exp", 0L)) {
      return new TokenCheck(false, "TOKEN_EXPIRED", 0);
    }
    return new TokenCheck(true, null, payload.getLong("epoch", -1L));
  }

  private byte[] hmac(String payload) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(tokenKey, "HmacSHA256"));
      return mac.doFinal(payload.getBytes(StandardCharsets.UTF_8));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
    }
  }

  private static String base64Url(byte[] bytes) {
    return Base64.getUrlEncoder().withoutPadding().encodeToString(bytes);
  }
}
