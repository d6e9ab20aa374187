package io.dstream.broker.faults;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A full disk, made real with a small tmpfs under the data dir: publishes fail with a clear
 * error, nothing acknowledged is lost, and the broker takes writes again once space returns,
 * without a restart. Needs permission to mount a tmpfs (root, as on the CI machine); skipped elsewhere.
 */
@ExtendWith(VertxExtension.class)
@Tag("slow")
class DiskFullTest {

  private static final int TMPFS_MB = 48;
  private Path mountPoint;
  private boolean mounted;

  @BeforeEach
  void mountSmallDisk() throws Exception {
    mountPoint = Files.createTempDirectory("dstream-diskfull");
    Process mount = new ProcessBuilder("mount", "-t", "tmpfs", "-o", "size=" + TMPFS_MB + "m", "tmpfs", mountPoint.toString())
        .redirectErrorStream(true).start();
    mounted = mount.waitFor(10, TimeUnit.SECONDS) && mount.exitValue() == 0;
    assumeTrue(mounted, "cannot mount a tmpfs here (needs root)");
  }

  @AfterEach
  void unmount() throws Exception {
    if (mounted) {
      new ProcessBuilder("umount", "-l", mountPoint.toString()).start().waitFor(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void publishesFailCleanlyWhileTheDiskIsFullAndResumeWhenSpaceReturns(Vertx vertx) throws Exception {
    Path dataDir = Files.createDirectory(mountPoint.resolve("data"));
    Path filler = mountPoint.resolve("filler");
    Map<Long, String> acknowledged = new LinkedHashMap<>();
    String payload = "d".repeat(20_000);
    try (TestBroker broker = TestBroker.start(vertx, dataDir, b -> b)) {
      try (V1TestClient client = V1TestClient.connect(vertx, broker.port(), "disk.full", TestBroker.API_KEY)) {
        acknowledged.put(1L, client.request(new JsonObject().put("n", 0)).encode());
        fill(filler, mountPoint.toFile().getUsableSpace() - 4L * 1024 * 1024);

        JsonObject refused = null;
        for (int i = 1; i < 2_000 && refused == null; i++) {
          JsonObject reply = client.request(new JsonObject().put("n", i).put("blob", payload));
          if (reply.containsKey("error")) {
            refused = reply;
          } else {
            acknowledged.put(reply.getLong("sequence"), reply.encode());
          }
        }
        assertTrue(refused != null, "the disk never filled up");
        assertEquals("storage_error", refused.getJsonObject("error").getString("code"));
        assertTrue(refused.getJsonObject("error").getString("message").startsWith("storage write failed"),
            refused.encode());

        Files.delete(filler);
        JsonObject resumed = null;
        for (int attempt = 0; attempt < 100 && (resumed == null || resumed.containsKey("error")); attempt++) {
          resumed = client.request(new JsonObject().put("after", attempt));
          if (resumed.containsKey("error")) {
            Thread.sleep(100);
          }
        }
        assertTrue(!resumed.containsKey("error"), "writes did not resume once space returned: " + resumed);
        acknowledged.put(resumed.getLong("sequence"), resumed.encode());
      }
      broker.stop();
      broker.restart();
      try (V1TestClient reader = V1TestClient.connect(vertx, broker.port(), "disk.full", TestBroker.API_KEY)) {
        long last = reader.command("getStreamInfo").getLong("sequence");
        assertEquals(acknowledged.keySet().stream().mapToLong(Long::longValue).max().orElseThrow(), last);
        reader.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
        for (long expected = 1; expected <= last; expected++) {
          JsonObject push = reader.nextPush();
          assertEquals(expected, push.getLong("sequence"), "gap after the disk-full episode");
          reader.ack(push);
        }
      }
    }
  }

  private static void fill(Path file, long bytes) throws IOException {
    byte[] block = new byte[1024 * 1024];
    try (OutputStream out = Files.newOutputStream(file)) {
      for (long written = 0; written + block.length <= bytes; written += block.length) {
        out.write(block);
      }
    } catch (IOException full) {
      // the disk is as full as it gets
    }
  }
}
