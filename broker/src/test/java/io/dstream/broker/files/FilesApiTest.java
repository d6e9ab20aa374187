package io.dstream.broker.files;

import io.dstream.broker.TestBroker;
import io.dstream.broker.s3.S3Connection;
import io.minio.GetObjectArgs;
import io.minio.GetObjectResponse;
import io.minio.ListObjectsArgs;
import io.minio.Result;
import io.minio.StatObjectArgs;
import io.minio.StatObjectResponse;
import io.minio.messages.Item;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Every /r2 route and status against the embedded S3 server, in the original client's call shapes. */
@ExtendWith(VertxExtension.class)
class FilesApiTest {

  private static final Map<String, String> METADATA = Map.of(
      "Content-Type", "text/csv",
      "Content-Language", "de",
      "Content-Disposition", "attachment; filename=\"report.csv\"",
      "Content-Encoding", "identity",
      "Cache-Control", "max-age=60",
      "Expires", "Wed, 21 Oct 2037 07:28:00 GMT",
      "x-amz-meta-owner", "alice",
      "x-meta-origin", "import");

  private TestBroker broker;
  private FileClient files;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    broker = TestBroker.start(vertx);
    files = new FileClient(vertx, broker.port(), TestBroker.API_KEY);
  }

  @AfterEach
  void stop() {
    files.close();
    broker.close();
  }

  private S3Connection s3() {
    return broker.broker().s3();
  }

  private static List<Buffer> chunks(String... parts) {
    List<Buffer> chunks = new ArrayList<>();
    for (String part : parts) {
      chunks.add(Buffer.buffer(part));
    }
    return chunks;
  }

  @Test
  void chunkedPostStoresBodyAndMetadataThatGetHeadAndTheMinioSdkReturn() throws Exception {
    FileClient.Answer put = files.postChunked("/r2/reports/2026.csv", METADATA, chunks("a,b\n", "1,2\n", "3,4\n"));
    assertEquals(200, put.status());
    assertEquals("Put reports/2026.csv successfully!", put.text());
    String etag = put.header("etag");
    assertNotNull(etag);

    FileClient.Answer get = files.get("/r2/reports/2026.csv");
    assertEquals(200, get.status());
    assertEquals("a,b\n1,2\n3,4\n", get.text());
    assertEquals(etag, get.header("etag"));
    for (String name : List.of("Content-Type", "Content-Language", "Content-Disposition", "Content-Encoding",
        "Cache-Control", "Expires")) {
      assertEquals(METADATA.get(name), get.header(name), name);
    }
    assertEquals("alice", get.header("x-amz-meta-owner"));
    assertEquals("import", get.header("x-amz-meta-origin"));
    assertEquals("12", get.header("Content-Length"));

    FileClient.Answer head = files.call(HttpMethod.HEAD, "/r2/reports/2026.csv", Map.of(), null);
    assertEquals(200, head.status());
    assertEquals(0, head.body().length());
    assertEquals("12", head.header("Content-Length"));
    assertEquals(etag, head.header("etag"));
    assertEquals("text/csv", head.header("Content-Type"));

    StatObjectResponse stat = s3().client().statObject(StatObjectArgs.builder().bucket(s3().bucket())
        .object("reports/2026.csv").build());
    assertEquals("text/csv", stat.contentType());
    assertEquals("alice", stat.userMetadata().get("owner"));
    assertEquals("max-age=60", stat.headers().get("Cache-Control"));
    try (GetObjectResponse object = s3().client().getObject(GetObjectArgs.builder().bucket(s3().bucket())
        .object("reports/2026.csv").build())) {
      assertArrayEquals("a,b\n1,2\n3,4\n".getBytes(StandardCharsets.UTF_8), object.readAllBytes());
    }
  }

  @Test
  void putWithALengthReplacesAndDeleteAnswers200EvenWhenAbsent() {
    assertEquals(200, files.call(HttpMethod.PUT, "/r2/note.txt", Map.of(), Buffer.buffer("one")).status());
    FileClient.Answer put = files.call(HttpMethod.PUT, "/r2/note.txt", Map.of(), Buffer.buffer("two"));
    assertEquals("Put note.txt successfully!", put.text());
    assertEquals("two", files.get("/r2/note.txt").text());
    Map<String, String> form = Map.of("Content-Type", "application/x-www-form-urlencoded");
    assertEquals(200, files.call(HttpMethod.PUT, "/r2/form", form, Buffer.buffer("a=1&b=2")).status());
    FileClient.Answer formBack = files.get("/r2/form");
    assertEquals("a=1&b=2", formBack.text(), "a form-typed body is stored as bytes");
    assertEquals("application/x-www-form-urlencoded", formBack.header("Content-Type"));
    assertEquals(200, files.call(HttpMethod.DELETE, "/r2/note.txt", Map.of(), null).status());
    assertEquals(404, files.get("/r2/note.txt").status());
    assertEquals(404, files.call(HttpMethod.HEAD, "/r2/note.txt", Map.of(), null).status());
    assertEquals(200, files.call(HttpMethod.DELETE, "/r2/note.txt", Map.of(), null).status());
    FileClient.Answer missing = files.get("/r2/never-there");
    assertEquals(404, missing.status());
    assertEquals("not_found", missing.json().getJsonObject("error").getString("code"));
  }

  @Test
  void rangesInEverySingleRangeForm() {
    files.call(HttpMethod.PUT, "/r2/digits", Map.of(), Buffer.buffer("0123456789"));
    FileClient.Answer closed = files.get("/r2/digits", Map.of("Range", "bytes=2-5"));
    assertEquals(206, closed.status());
    assertEquals("2345", closed.text());
    assertEquals("bytes 2-5/10", closed.header("Content-Range"));
    FileClient.Answer open = files.get("/r2/digits", Map.of("Range", "bytes=7-"));
    assertEquals(206, open.status());
    assertEquals("789", open.text());
    assertEquals("bytes 7-9/10", open.header("Content-Range"));
    FileClient.Answer suffix = files.get("/r2/digits", Map.of("Range", "bytes=-3"));
    assertEquals("789", suffix.text());
    assertEquals("bytes 7-9/10", suffix.header("Content-Range"));
    FileClient.Answer beyondEnd = files.get("/r2/digits", Map.of("Range", "bytes=8-100"));
    assertEquals("89", beyondEnd.text());
    FileClient.Answer unsatisfiable = files.get("/r2/digits", Map.of("Range", "bytes=10-"));
    assertEquals(416, unsatisfiable.status());
    assertEquals("bytes */10", unsatisfiable.header("Content-Range"));
    assertEquals(416, files.get("/r2/digits", Map.of("Range", "bytes=-0")).status());
    FileClient.Answer multi = files.get("/r2/digits", Map.of("Range", "bytes=0-1,4-5"));
    assertEquals(200, multi.status(), "a multi-range request is answered whole");
    assertEquals("0123456789", multi.text());
  }

  @Test
  void conditionalRequests() {
    String etag = files.call(HttpMethod.PUT, "/r2/cond", Map.of(), Buffer.buffer("v1")).header("etag");
    DateTimeFormatter http = DateTimeFormatter.RFC_1123_DATE_TIME;
    String future = http.format(ZonedDateTime.now(ZoneOffset.UTC).plusDays(1));
    String past = http.format(ZonedDateTime.now(ZoneOffset.UTC).minusDays(1));

    FileClient.Answer notModified = files.get("/r2/cond", Map.of("If-None-Match", etag));
    assertEquals(304, notModified.status());
    assertEquals(etag, notModified.header("etag"));
    assertEquals(0, notModified.body().length());
    assertEquals(200, files.get("/r2/cond", Map.of("If-None-Match", "\"other\"")).status());
    assertEquals(304, files.get("/r2/cond", Map.of("If-Modified-Since", future)).status());
    assertEquals(200, files.get("/r2/cond", Map.of("If-Modified-Since", past)).status());
    assertEquals(412, files.get("/r2/cond", Map.of("If-Match", "\"other\"")).status());
    assertEquals(200, files.get("/r2/cond", Map.of("If-Match", etag)).status());
    assertEquals(412, files.get("/r2/cond", Map.of("If-Unmodified-Since", past)).status());
    assertEquals(200, files.get("/r2/cond", Map.of("If-Unmodified-Since", future)).status());
    assertEquals(304, files.call(HttpMethod.HEAD, "/r2/cond", Map.of("If-None-Match", etag), null).status());
  }

  @Test
  void keysArePercentDecodedAndBoundedAndTheCheckpointPrefixIsRefused() {
    FileClient.Answer put = files.call(HttpMethod.PUT, "/r2/photos/%C3%BCber%20uns.jpg", Map.of(), Buffer.buffer("x"));
    assertEquals("Put photos/über uns.jpg successfully!", put.text());
    assertEquals("x", files.get("/r2/photos/%C3%BCber%20uns.jpg").text());

    // 1024 bytes in path segments short enough for the embedded server's filesystem (255 bytes a name).
    String longest = ("k".repeat(200) + "/").repeat(5) + "k".repeat(FilesApi.MAX_KEY_BYTES - 1005);
    assertEquals(200, files.call(HttpMethod.PUT, "/r2/" + longest, Map.of(), Buffer.buffer("y")).status());
    FileClient.Answer tooLong = files.call(HttpMethod.PUT, "/r2/" + longest + "k", Map.of(), Buffer.buffer("y"));
    assertEquals(400, tooLong.status());
    assertEquals("invalid_key", tooLong.json().getJsonObject("error").getString("code"));
    assertEquals(400, files.call(HttpMethod.PUT, "/r2/", Map.of(), Buffer.buffer("y")).status());
    assertEquals(400, files.call(HttpMethod.DELETE, "/r2/", Map.of(), null).status());
    assertEquals(400, files.get("/r2/%ZZ").status());
    for (HttpMethod method : List.of(HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT, HttpMethod.DELETE)) {
      assertEquals(400, files.call(method, "/r2/_dstream/subjects/x/manifest.json", Map.of(),
          method == HttpMethod.PUT ? Buffer.buffer("z") : null).status(), method.name());
    }
  }

  @Test
  void everyFileRouteNeedsCredentials(Vertx vertx) {
    try (FileClient anonymous = new FileClient(vertx, broker.port(), null)) {
      assertEquals(401, anonymous.get("/r2/x").status());
      assertEquals(401, anonymous.get("/r2/").status());
      assertEquals(401, anonymous.call(HttpMethod.PUT, "/r2/x", Map.of(), Buffer.buffer("x")).status());
    }
  }

  @Test
  void listingWithPrefixDelimiterAndCursorHidesTheCheckpoints() throws Exception {
    for (String key : List.of("a.txt", "docs/one.md", "docs/two.md", "docs/sub/three.md", "zeta.bin", "_other")) {
      files.call(HttpMethod.PUT, "/r2/" + key, Map.of("Content-Type", "text/plain", "x-amz-meta-k", key),
          Buffer.buffer(key));
    }
    broker.broker().archive().upload(new io.dstream.broker.archive.Segment("hidden.subject",
        List.of(new io.dstream.broker.store.StoredMessage(1, 1, "{}".getBytes(StandardCharsets.UTF_8)))), 0).await();
    assertTrue(keysInBucket().stream().anyMatch(k -> k.startsWith("_dstream/")), "the archive wrote its own keys");

    JsonObject all = files.get("/r2/").json();
    assertEquals(List.of("_other", "a.txt", "docs/one.md", "docs/sub/three.md", "docs/two.md", "zeta.bin"), keys(all));
    assertFalse(all.getBoolean("truncated"));
    JsonObject first = all.getJsonArray("objects").getJsonObject(1);
    assertEquals(5L, first.getLong("size"));
    assertNotNull(first.getString("etag"));
    assertNotNull(first.getString("uploaded"));
    assertEquals("text/plain", first.getJsonObject("httpMetadata").getString("contentType"));
    assertEquals("a.txt", first.getJsonObject("customMetadata").getString("k"));

    JsonObject delimited = files.get("/r2/?delimiter=/").json();
    assertEquals(List.of("_other", "a.txt", "zeta.bin"), keys(delimited));
    assertEquals(new JsonArray().add("docs/"), delimited.getJsonArray("delimitedPrefixes"));

    JsonObject docs = files.get("/r2/?prefix=docs/&delimiter=/").json();
    assertEquals(List.of("docs/one.md", "docs/two.md"), keys(docs));
    assertEquals(new JsonArray().add("docs/sub/"), docs.getJsonArray("delimitedPrefixes"));

    List<String> paged = new ArrayList<>();
    String cursor = null;
    for (int page = 0; page < 10; page++) {
      JsonObject listed = files.get("/r2/?limit=2" + (cursor == null ? "" : "&cursor=" + cursor)).json();
      paged.addAll(keys(listed));
      if (!listed.getBoolean("truncated")) {
        assertNull(listed.getString("cursor"));
        break;
      }
      cursor = listed.getString("cursor");
      assertEquals(2, keys(listed).size());
    }
    assertEquals(keys(all), paged);
    assertEquals(List.of(), keys(files.get("/r2/?prefix=_dstream/").json()));
    assertEquals(400, files.get("/r2/?limit=0").status());
  }

  private List<String> keysInBucket() throws Exception {
    List<String> keys = new ArrayList<>();
    for (Result<Item> item : s3().client().listObjects(ListObjectsArgs.builder().bucket(s3().bucket()).recursive(true).build())) {
      keys.add(item.get().objectName());
    }
    return keys;
  }

  private static List<String> keys(JsonObject listing) {
    List<String> keys = new ArrayList<>();
    for (Object object : listing.getJsonArray("objects")) {
      keys.add(((JsonObject) object).getString("key"));
    }
    return keys;
  }
}
