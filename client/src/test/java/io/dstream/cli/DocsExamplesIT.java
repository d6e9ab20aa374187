package io.dstream.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.dstream.broker.Broker;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.config.JwtSettings;
import io.dstream.broker.config.NatsSettings;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Every {@code console} block of the README and the docs, run verbatim ({@link ConsoleExamples})
 * with the packaged {@code dstream} (the {@code client/bin/dstream} launcher and
 * {@code target/dstream.jar}) against a fresh broker whose data dir is {@code ./data} of the
 * working directory, as after the README's quick start. The broker accepts JWTs signed with
 * {@code change-me}, the secret docs/cli.md uses; its NATS port is a free one, which
 * {@code DSTREAM_NATS_URL} gives the commands (a user's broker has it on 4222, the default).
 * And every {@code java} block of docs/client.md, run as one program ({@link JavaExamples}).
 * Slow: one JVM per command.
 */
@Tag("slow")
@ExtendWith(VertxExtension.class)
class DocsExamplesIT {

  static final Path LAUNCHER = Path.of("bin", "dstream").toAbsolutePath();
  static final Path JAR = Path.of("target", "dstream.jar").toAbsolutePath();

  @ParameterizedTest
  @ValueSource(strings = {"README.md", "docs/cli.md", "docs/http.md"})
  void examplesPrintWhatTheDocsSay(String file, Vertx vertx, @TempDir Path workDir) throws Exception {
    List<ConsoleExamples.Example> examples = ConsoleExamples.parse(Path.of("..").resolve(file));
    assertFalse(examples.isEmpty(), file + " has console examples");
    // The README puts client/bin of the clone on PATH itself; the other docs assume dstream is on it.
    Path bin = Files.createDirectories(workDir.resolve("client").resolve("bin"));
    Files.copy(LAUNCHER, bin.resolve("dstream"), StandardCopyOption.COPY_ATTRIBUTES);
    Broker broker = start(vertx, BrokerConfig.builder().dataDir(workDir.resolve("data"))
        .jwt(new JwtSettings("change-me", null, null, List.of())));
    try {
      Map<String, String> env = new HashMap<>();
      env.put("DSTREAM_JAR", JAR.toString());
      env.put("DSTREAM_CONFIG_DIR", workDir.resolve("config").toString());
      env.put("DSTREAM_NATS_URL", "nats://127.0.0.1:" + broker.natsPort());
      env.put("HOME", workDir.toString());
      env.put("PATH", file.equals("README.md") ? System.getenv("PATH") : bin + ":" + System.getenv("PATH"));
      List<ConsoleExamples.Outcome> outcomes = ConsoleExamples.run(examples, workDir, broker.port(), broker.natsPort(),
          env);
      assertEquals(examples.size(), outcomes.size(), "every example ran");
      StringBuilder wrong = new StringBuilder();
      for (ConsoleExamples.Outcome outcome : outcomes) {
        if (!outcome.matches()) {
          wrong.append(outcome.describe()).append('\n');
        }
      }
      assertEquals("", wrong.toString(), "examples that print something else than " + file + " says");
    } finally {
      broker.stop().await(60, TimeUnit.SECONDS);
    }
  }

  @Test
  void javaExamplesOfTheClientPagePrintWhatTheySay(Vertx vertx, @TempDir Path workDir) throws Exception {
    Broker broker = start(vertx, BrokerConfig.builder().dataDir(workDir.resolve("data")).apiKey("client-docs-key"));
    try {
      JavaExamples.Program program = JavaExamples.parse(Path.of("..", "docs", "client.md"), broker.port(),
          broker.natsPort());
      assertFalse(program.expected().isEmpty(), "docs/client.md has java examples that print");
      JavaExamples.Outcome outcome = JavaExamples.run(program, workDir, broker.port(), broker.natsPort(),
          Map.of("DSTREAM_API_KEY", "client-docs-key"));
      assertEquals("", outcome.mismatches(), "docs/client.md's examples print something else than it says");
    } finally {
      broker.stop().await(60, TimeUnit.SECONDS);
    }
  }

  /** A broker on loopback with free HTTP and NATS ports. */
  private static Broker start(Vertx vertx, BrokerConfig.Builder config) throws Exception {
    return Broker.start(vertx, config.host("127.0.0.1").port(0)
        .nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)).build()).await(60, TimeUnit.SECONDS);
  }
}
