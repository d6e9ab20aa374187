package io.dstream.broker.cluster;

import io.dstream.broker.s3.EmbeddedS3;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamSubscription;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.PushSubscribeOptions;
import io.nats.client.api.PublishAck;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * docs/cluster.md's "Running three nodes" block, run as written by bash, on the ports it names,
 * beside an S3-compatible server on 127.0.0.1:9000 with the credentials it names: the three nodes
 * log that they are ready and elect leaders, and a message published through one node, on a subject
 * declared as a JetStream stream through the second, is delivered through the third. (The Compose example beside it needs a Docker engine, which CI does not have.)
 */
@Tag("slow")
@Tag("cluster")
@Timeout(value = 3, unit = TimeUnit.MINUTES)
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it
class ClusterDocsIT {

  private static final Pattern BASH_BLOCK = Pattern.compile("## Running three nodes.*?```bash\\n(.*?)```",
      Pattern.DOTALL);
  private static final Duration WAIT = Duration.ofSeconds(90);

  @Test
  void theThreeNodeExampleRunsAsWritten(@TempDir Path dir) throws Exception {
    Matcher block = BASH_BLOCK.matcher(Files.readString(Path.of("..", "docs", "cluster.md")));
    assertTrue(block.find(), "docs/cluster.md has a bash block under \"Running three nodes\"");
    // The block starts broker/target/broker.jar of a clone: the working directory gets one.
    Path work = Files.createDirectories(dir.resolve("work"));
    Files.createDirectories(work.resolve("broker"));
    Files.createSymbolicLink(work.resolve("broker").resolve("target"), Path.of("target").toAbsolutePath());
    EmbeddedS3 s3 = EmbeddedS3.start(dir.resolve("s3"), "127.0.0.1", 9000, "minioadmin", "minioadmin");
    List<Long> pids = new ArrayList<>();
    try {
      Process shell = new ProcessBuilder("bash", "-c", block.group(1) + "\njobs -p > pids\n").directory(work.toFile())
          .redirectErrorStream(true).redirectOutput(dir.resolve("shell.log").toFile()).start();
      assertTrue(shell.waitFor(30, TimeUnit.SECONDS), "the block returns once it started the nodes");
      for (String pid : Files.readAllLines(work.resolve("pids"))) {
        pids.add(Long.parseLong(pid.trim()));
      }
      assertEquals(3, pids.size(), "the block starts three nodes");
      for (int i = 1; i <= 3; i++) {
        awaitLine(work.resolve("n" + i + ".log"), "cluster: node n" + i + " ready");
      }
      try (Connection publisher = connect(4221); Connection declarer = connect(4222);
           Connection subscriber = connect(4223)) {
        JetStream subscribing = subscriber.jetStream();
        JetStream publishing = publisher.jetStream();
        PublishAck ack = publishUntilAcked(publishing, "docs.cluster", "hello");
        declarer.jetStreamManagement().addStream(StreamConfiguration.builder().name("DOCS").subjects("docs.cluster")
            .build());
        assertEquals(1, ack.getSeqno(), "the first message of docs.cluster");
        JetStreamSubscription replay = subscribing.subscribe("docs.cluster", PushSubscribeOptions.builder().build());
        Message delivered = replay.nextMessage(WAIT);
        assertNotNull(delivered, "the message published through node 1, delivered through node 3");
        assertEquals("hello", new String(delivered.getData(), StandardCharsets.UTF_8));
      }
    } finally {
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(ProcessHandle::destroy);
      }
      for (long pid : pids) {
        ProcessHandle.of(pid).ifPresent(process -> process.onExit().orTimeout(30, TimeUnit.SECONDS).join());
      }
      s3.stop();
    }
  }

  /** Publishes until acknowledged: the partitions elect their leaders in the first seconds. */
  private static PublishAck publishUntilAcked(JetStream js, String subject, String body) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    Exception last = null;
    while (System.nanoTime() < deadline) {
      try {
        // The same id on every try: one stored but not answered is not stored twice.
        return js.publish(NatsMessage.builder().subject(subject).headers(new Headers().put("Nats-Msg-Id", "docs-1"))
            .data(body.getBytes(StandardCharsets.UTF_8)).build());
      } catch (IOException | JetStreamApiException e) {
        last = e;
        Thread.sleep(500);
      }
    }
    throw new AssertionError("no PubAck within " + WAIT, last);
  }

  private static Connection connect(int port) throws Exception {
    return Nats.connect(new Options.Builder().server("nats://127.0.0.1:" + port).token("secret".toCharArray())
        .connectionTimeout(Duration.ofSeconds(10)).noReconnect().build());
  }

  private static void awaitLine(Path log, String line) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      if (Files.exists(log) && Files.readString(log).contains(line)) {
        return;
      }
      Thread.sleep(200);
    }
    fail("no \"" + line + "\" in " + log + " within " + WAIT + ":\n"
        + (Files.exists(log) ? Files.readString(log) : "(no log)"));
  }
}
