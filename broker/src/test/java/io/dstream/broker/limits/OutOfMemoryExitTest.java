package io.dstream.broker.limits;

import io.dstream.broker.BrokerProcess;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With its memory budgets switched off (set far above the heap) a broker started the plain way,
 * {@code java} without {@code -XX:+ExitOnOutOfMemoryError}, runs out of heap under unread
 * {@code getState} replies; it must then exit with status 3 and say why, not hang.
 */
@Tag("slow")
class OutOfMemoryExitTest {

  private static final String KEY = "oom-key";

  @Test
  void anOutOfMemoryErrorEndsTheProcessWithAClearLine() throws Exception {
    Path dataDir = Files.createTempDirectory("dstream-oom");
    String unlimited = Long.toString(1L << 40);
    Vertx vertx = Vertx.vertx();
    try (BrokerProcess broker = BrokerProcess.start(List.of("-Xmx128m"), Map.of(
        "DSTREAM_MEMORY_BUDGET_BYTES", unlimited, "DSTREAM_CONNECTION_BUDGET_BYTES", unlimited,
        "DSTREAM_STORE_CACHE_MB", "4"), dataDir, KEY)) {
      try (V1TestClient writer = V1TestClient.connect(vertx, broker.port(), "oom", KEY)) {
        writer.request(new JsonObject().put("cmd", "putState").put("state", new JsonObject().put("big", "m".repeat(900_000))));
      }
      List<SilentWebSocket> attackers = new ArrayList<>();
      Integer status = null;
      for (int round = 0; round < 20 && status == null; round++) {
        SilentWebSocket silent;
        try {
          silent = SilentWebSocket.connect(broker.port(), "oom", KEY);
        } catch (IOException e) {
          // Refused or reset: the heap ran out during the last round and the broker is going down
          // (seen in CI). Its exit decides; a broker that stays up fails the assertion below.
          status = broker.awaitExit(60);
          break;
        }
        attackers.add(silent);
        for (int i = 0; i < 200; i++) {
          silent.request("{\"cmd\":\"getState\"}");
        }
        status = broker.awaitExit(3);
      }
      if (status == null) {
        status = broker.awaitExit(60);
      }
      assertEquals(3, status, "exit status of the out-of-memory guard");
      assertTrue(broker.output().stream().anyMatch(line -> line.contains("out of memory in")),
          "the log says why: " + String.join("\n", broker.output()));
      attackers.forEach(SilentWebSocket::close);
    } finally {
      vertx.close().await();
    }
  }
}
