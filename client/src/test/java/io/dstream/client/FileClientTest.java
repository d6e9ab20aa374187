package io.dstream.client;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The file client against the broker's real /r2/ routes (embedded S3-compatible server on loopback). */
@ExtendWith(VertxExtension.class)
class FileClientTest {

  private static final long AWAIT_SECONDS = 60;

  @TempDir
  Path dir;

  @Test
  void putGetHeadListAndDeleteRoundTrip(Vertx vertx) throws Exception {
    byte[] bytes = new byte[300_000];
    new Random(7).nextBytes(bytes);
    Path source = Files.write(dir.resolve("blob.bin"), bytes);
    try (BrokerFixture broker = BrokerFixture.start(vertx, dir.resolve("broker"));
         FileClient files = DurableStream.files(ClientOptions.builder().url(broker.url())
             .apiKey(BrokerFixture.API_KEY).build())) {
      AtomicLong sent = new AtomicLong();
      FileClient.FileInfo stored = files.put("docs/blob.bin", source, "application/x-test",
          (done, total) -> sent.set(done)).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(bytes.length, stored.size());
      assertEquals(bytes.length, sent.get(), "progress reached the whole file");
      assertEquals("application/x-test", stored.contentType());

      files.put("notes/hello.txt", new ByteArrayInputStream("hello".getBytes()), -1, "text/plain",
          FileClient.Progress.NONE).await(AWAIT_SECONDS, TimeUnit.SECONDS);

      Path copy = dir.resolve("copy.bin");
      AtomicLong received = new AtomicLong();
      files.get("docs/blob.bin", copy, null, (done, total) -> received.set(done)).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertArrayEquals(bytes, Files.readAllBytes(copy));
      assertEquals(bytes.length, received.get());

      ByteArrayOutputStream range = new ByteArrayOutputStream();
      FileClient.FileInfo ranged = files.get("docs/blob.bin", range, FileClient.ByteRange.of(10, 19),
          FileClient.Progress.NONE).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertArrayEquals(Arrays.copyOfRange(bytes, 10, 20), range.toByteArray());
      assertEquals(bytes.length, ranged.size(), "the size is the whole file's");
      ByteArrayOutputStream suffix = new ByteArrayOutputStream();
      files.get("docs/blob.bin", suffix, FileClient.ByteRange.last(5), FileClient.Progress.NONE)
          .await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertArrayEquals(Arrays.copyOfRange(bytes, bytes.length - 5, bytes.length), suffix.toByteArray());

      assertEquals(stored.etag(), files.head("docs/blob.bin").await(AWAIT_SECONDS, TimeUnit.SECONDS).etag());
      FileClient.FileList all = files.list(null, null, null, 100).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(List.of("docs/blob.bin", "notes/hello.txt"), all.files().stream().map(FileClient.FileInfo::key).toList());
      FileClient.FileList grouped = files.list(null, "/", null, 100).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(List.of("docs/", "notes/"), grouped.delimitedPrefixes());
      FileClient.FileList paged = files.list(null, null, null, 1).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertTrue(paged.truncated());
      assertEquals("notes/hello.txt", files.list(null, null, paged.cursor(), 1).await(AWAIT_SECONDS, TimeUnit.SECONDS)
          .files().get(0).key());

      files.delete("docs/blob.bin").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      files.delete("docs/blob.bin").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      Throwable missing = assertThrows(Exception.class,
          () -> files.head("docs/blob.bin").await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertEquals(FileClient.NOT_FOUND, assertInstanceOf(StreamException.class, missing).code());
      Throwable beyond = assertThrows(Exception.class, () -> files.get("notes/hello.txt", new ByteArrayOutputStream(),
          FileClient.ByteRange.from(100), FileClient.Progress.NONE).await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertEquals("range_not_satisfiable", assertInstanceOf(StreamException.class, beyond).code());
    }
  }

  @Test
  void refusedCredentialsAreAnAuthenticationException(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dir.resolve("broker"));
         FileClient files = DurableStream.files(ClientOptions.builder().url(broker.url()).apiKey("wrong").build())) {
      Throwable refused = assertThrows(Exception.class, () -> files.list(null, null, null, 10).await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertInstanceOf(AuthenticationException.class, refused);
    }
  }
}
