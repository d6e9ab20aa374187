package io.dstream.broker.cluster;

import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamOptions;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.dstream.broker.ClusterProcesses;

import java.io.IOException;
import java.time.Duration;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/** The client side of the cluster suite's cases: connections, publishing until acknowledged, polling. */
final class ClusterClients {

  private ClusterClients() {
  }

  /** A jnats connection to {@code url} that does not reconnect; an async publish unanswered this long fails. */
  static Connection connect(String url, Duration asyncPublishTimeout) throws IOException, InterruptedException {
    // An async publish unanswered for the cleanup interval fails (and is retried): a short one makes a dead forward visible quickly.
    return Nats.connect(new Options.Builder().server(url).token(ClusterProcesses.API_KEY.toCharArray())
        .noReconnect().connectionTimeout(Duration.ofSeconds(10)).requestCleanupInterval(asyncPublishTimeout).build());
  }

  static JetStream jetStream(Connection nc, Duration syncPublishTimeout) throws IOException {
    return nc.jetStream(JetStreamOptions.builder().requestTimeout(syncPublishTimeout).build());
  }

  static Headers msgIdHeader(String msgId) {
    return new Headers().put("Nats-Msg-Id", msgId);
  }

  /**
   * Publishes {@code msgId} synchronously until it is acknowledged (each try with the same id and
   * bytes, so a try that was stored but not answered is not stored twice); records the PubAck.
   */
  static PublishAck publishUntilAcked(JetStream js, AckLedger ledger, String msgId, Duration timeout) throws Exception {
    byte[] payload = AckLedger.payloadOf(msgId);
    long deadline = System.nanoTime() + timeout.toNanos();
    Exception last;
    do {
      long sent = System.nanoTime();
      try {
        PublishAck ack = js.publish(ledger.subject(), msgIdHeader(msgId), payload);
        ledger.record(msgId, payload, ack, sent);
        return ack;
      } catch (IOException | JetStreamApiException e) {
        last = e;
        Thread.sleep(200);
      }
    } while (System.nanoTime() < deadline);
    throw new AssertionError(msgId + " on " + ledger.subject() + " not acknowledged within " + timeout, last);
  }

  /** Milliseconds from {@code since} to the first acknowledgement of a publish sent after it. */
  static long firstAckAfterMs(AckLedger ledger, long since) {
    long first = ledger.firstAckOfAttemptSentAfter(since);
    assertTrue(first > 0, "no publish sent after the event was acknowledged");
    return (first - since) / 1_000_000;
  }

  static long msSince(long nanos) {
    return (System.nanoTime() - nanos) / 1_000_000;
  }

  static void await(BooleanSupplier done, Duration timeout, String what) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!done.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        fail("not within " + timeout + ": " + what);
      }
      Thread.sleep(50);
    }
  }
}
