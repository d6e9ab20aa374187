package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.dstream.broker.config.BrokerConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code dstream files} as a separate process against the broker's real /r2/ routes. */
@ExtendWith(VertxExtension.class)
class CliFilesTest {

  private static final String API_KEY = "cli-files-key";

  @Test
  void putLsHeadGetAndRm(Vertx vertx, @TempDir Path dir) throws Exception {
    Broker broker = Broker.start(vertx, BrokerConfig.builder().host("127.0.0.1").port(0).dataDir(dir.resolve("broker"))
        .apiKey(API_KEY).build()).await(60, TimeUnit.SECONDS);
    try {
      Map<String, String> env = Map.of("DSTREAM_URL", "http://127.0.0.1:" + broker.port(), "DSTREAM_API_KEY", API_KEY);
      byte[] bytes = new byte[100_000];
      new Random(3).nextBytes(bytes);
      Path source = Files.write(dir.resolve("in.bin"), bytes);
      CliProcess.Result put = CliProcess.run(env, null, "files", "put", "data/in.bin", source.toString(), "--json");
      assertEquals(0, put.exitCode(), put.err());
      assertEquals(100_000L, new JsonObject(put.out()).getLong("size"));
      assertEquals(0, CliProcess.run(env, "piped text", "files", "put", "data/piped.txt", "-").exitCode());

      CliProcess.Result ls = CliProcess.run(env, null, "files", "ls", "data/");
      assertEquals(2, ls.lines().size(), ls.out());
      assertTrue(ls.lines().get(0).startsWith("data/in.bin\t100000\t"), ls.out());
      assertTrue(CliProcess.run(env, null, "files", "head", "data/in.bin").out().contains("size:         100000"));

      Path copy = dir.resolve("out.bin");
      assertEquals(0, CliProcess.run(env, null, "files", "get", "data/in.bin", copy.toString()).exitCode());
      assertArrayEquals(bytes, Files.readAllBytes(copy));
      assertEquals("piped", CliProcess.run(env, null, "files", "get", "data/piped.txt", "--range", "0-4").out());

      assertEquals(0, CliProcess.run(env, null, "files", "rm", "data/in.bin").exitCode());
      assertEquals(5, CliProcess.run(env, null, "files", "head", "data/in.bin").exitCode());
      assertEquals(5, CliProcess.run(env, null, "files", "get", "data/in.bin", copy.toString()).exitCode());
    } finally {
      broker.stop().await(60, TimeUnit.SECONDS);
    }
  }
}
