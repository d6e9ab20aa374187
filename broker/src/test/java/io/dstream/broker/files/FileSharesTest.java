package io.dstream.broker.files;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Share links: {@code GET /r2/{key}?share=SECONDS} signs a link that downloads that one key without a
 * credential until it expires; a changed signature, another key or an expired link is 403.
 */
@ExtendWith(VertxExtension.class)
class FileSharesTest {

  @Test
  void aShareLinkDownloadsOneFileWithoutACredential(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx, b -> b.maxFileShare(Duration.ofHours(2)));
         FileClient owner = new FileClient(vertx, broker.port(), TestBroker.API_KEY);
         FileClient anyone = new FileClient(vertx, broker.port(), null)) {
      assertEquals(200, owner.call(HttpMethod.PUT, "/r2/reports/nov%202026.csv", Map.of(), Buffer.buffer("id,total\n")).status());
      assertEquals(200, owner.call(HttpMethod.PUT, "/r2/reports/other.csv", Map.of(), Buffer.buffer("secret\n")).status());

      FileClient.Answer signed = owner.get("/r2/reports/nov%202026.csv?share=3600");
      assertEquals(200, signed.status(), signed.body().toString());
      JsonObject link = signed.body().toJsonObject();
      String path = link.getString("path");
      assertTrue(path.startsWith("/r2/reports/nov%202026.csv?expires="), path);
      assertTrue(Instant.parse(link.getString("expires")).isAfter(Instant.now().plusSeconds(3500)));

      FileClient.Answer download = anyone.get(path);
      assertEquals(200, download.status());
      assertEquals("id,total\n", download.body().toString());
      assertEquals(200, anyone.call(HttpMethod.HEAD, path, Map.of(), null).status());

      String query = path.substring(path.indexOf('?'));
      assertEquals(403, anyone.get("/r2/reports/other.csv" + query).status(), "the signature covers one key");
      String tampered = path.substring(0, path.length() - 2) + (path.endsWith("AA") ? "BB" : "AA");
      assertEquals(403, anyone.get(tampered).status());
      assertEquals(401, anyone.get("/r2/reports/nov%202026.csv").status(), "without the link a credential is needed");
      assertEquals(401, anyone.call(HttpMethod.PUT, "/r2/reports/nov%202026.csv" + query, Map.of(),
          Buffer.buffer("overwrite")).status(), "a link only reads");

      assertEquals(400, owner.get("/r2/reports/nov%202026.csv?share=0").status());
      FileClient.Answer tooLong = owner.get("/r2/reports/nov%202026.csv?share=7201");
      assertEquals(400, tooLong.status());
      assertTrue(tooLong.body().toString().contains("DSTREAM_FILES_MAX_SHARE_SECONDS"), tooLong.body().toString());
    }
  }

  @Test
  void linksExpireAndTheKeyFileIsPrivate(@TempDir Path dataDir) throws Exception {
    Instant now = Instant.parse("2026-12-02T10:00:00Z");
    FileShares shares = FileShares.load(dataDir, Duration.ofDays(7), Clock.fixed(now, ZoneOffset.UTC));
    FileShares.Link link = shares.sign("a/b.txt", 60);
    String query = link.pathAndQuery().substring(link.pathAndQuery().indexOf('?') + 1);
    String expires = query.replaceAll("^expires=(\\d+)&.*$", "$1");
    String signature = query.replaceAll("^.*signature=", "");
    assertNotNull(shares.verify("a/b.txt", expires, signature));
    assertEquals(now.getEpochSecond() + 60, link.expiresEpochSeconds());

    FileShares later = FileShares.load(dataDir, Duration.ofDays(7), Clock.fixed(now.plusSeconds(60), ZoneOffset.UTC));
    assertNull(later.verify("a/b.txt", expires, signature), "expired at the second it names");
    assertNull(shares.verify("a/b.txt", Long.toString(now.getEpochSecond() + 3600), signature), "the expiry is signed");
    assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dataDir.resolve("share-key"))));
  }
}
