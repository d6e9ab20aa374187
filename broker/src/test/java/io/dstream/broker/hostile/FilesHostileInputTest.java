package io.dstream.broker.hostile;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The file API under hostile keys and headers: dot segments and encoded slashes stay keys inside
 * the bucket (never paths out of it), the checkpoint prefix stays unreachable, and header values
 * cannot inject headers into answers.
 */
class FilesHostileInputTest {

  private static Vertx vertx;
  private static TestBroker broker;
  /** Private to this test, so that looking for escaped files never walks a shared directory like /tmp. */
  private static Path root;
  private static WebClient http;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    root = Files.createTempDirectory("dstream-hostile-files").toRealPath();
    broker = TestBroker.start(vertx, Files.createDirectories(root.resolve("a/b/data")), b -> b);
    http = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  private static HttpResponse<Buffer> call(HttpMethod method, String uri, Buffer body) {
    var request = http.request(method, broker.port(), "127.0.0.1", uri).putHeader("Authorization", "Bearer " + TestBroker.API_KEY);
    return body == null ? request.send().await() : request.sendBuffer(body).await();
  }

  @Test
  void dotSegmentsAndEncodedSlashesNeverLeaveTheBucket() throws IOException {
    Path dataDir = broker.dataDir.toRealPath();
    for (String key : new String[] {"..%2F..%2Fescaped-1", "%2E%2E%2F%2E%2E%2F%2E%2E%2Fescaped-2", "a%2F..%2F..%2F..%2Fescaped-3",
        "..%5C..%5Cescaped-4"}) {
      HttpResponse<Buffer> put = call(HttpMethod.PUT, "/r2/" + key, Buffer.buffer("payload"));
      if (key.contains("%5C")) {
        assertEquals(200, put.statusCode(), "a backslash is an ordinary key character");
        assertEquals("payload", call(HttpMethod.GET, "/r2/" + key, null).bodyAsString(), "the key reads back as itself");
      } else {
        assertEquals(400, put.statusCode(), key);
        assertEquals("invalid_key", put.bodyAsJsonObject().getJsonObject("error").getString("code"));
      }
    }
    try (Stream<Path> files = Files.walk(root)) {
      assertFalse(files.anyMatch(p -> p.getFileName().toString().startsWith("escaped-") && !p.startsWith(dataDir)),
          "a file key escaped the data dir");
    }
  }

  @Test
  void theCheckpointPrefixIsUnreachableInEveryEncoding() {
    for (String key : new String[] {"_dstream/x", "_dstream%2Fx", "%5Fdstream/x"}) {
      assertEquals(400, call(HttpMethod.PUT, "/r2/" + key, Buffer.buffer("x")).statusCode(), key);
      assertEquals(400, call(HttpMethod.GET, "/r2/" + key, null).statusCode(), key);
      assertEquals(400, call(HttpMethod.DELETE, "/r2/" + key, null).statusCode(), key);
    }
  }

  @Test
  void encodedLineBreaksInKeysAndMetadataDoNotInjectHeaders() {
    HttpResponse<Buffer> put = call(HttpMethod.PUT, "/r2/inject%0d%0aX-Injected:%20yes", Buffer.buffer("x"));
    assertNull(put.getHeader("X-Injected"));
    HttpResponse<Buffer> meta = http.put(broker.port(), "127.0.0.1", "/r2/meta-key")
        .putHeader("Authorization", "Bearer " + TestBroker.API_KEY)
        .putHeader("x-amz-meta-note", "value with %0d%0a encoded").sendBuffer(Buffer.buffer("x")).await();
    assertEquals(200, meta.statusCode());
    HttpResponse<Buffer> head = call(HttpMethod.HEAD, "/r2/meta-key", null);
    assertNull(head.getHeader("X-Injected"));
    assertEquals("value with %0d%0a encoded", head.getHeader("x-amz-meta-note"));
  }

  @Test
  void emptyAndOverlongKeysAre400() {
    assertEquals(400, call(HttpMethod.PUT, "/r2/" + "k".repeat(1025), Buffer.buffer("x")).statusCode());
    assertEquals(400, call(HttpMethod.GET, "/r2/%zz", null).statusCode());
    String longest = ("k".repeat(199) + "/").repeat(5) + "k".repeat(24);
    assertEquals(1024, longest.length());
    assertEquals(200, call(HttpMethod.PUT, "/r2/" + longest, Buffer.buffer("x")).statusCode(),
        "a 1024-byte key (segments within the embedded store's 255-byte file names)");
  }
}
