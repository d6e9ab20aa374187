package io.dstream.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.stream.LongStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The client across broker restarts: resubscribe, dedup of retried publishes, refused credentials. */
@ExtendWith(VertxExtension.class)
class ReconnectTest {

  private static final long AWAIT_SECONDS = 30;

  @TempDir
  Path dataDir;

  private static ClientOptions options(String url, String apiKey) {
    return ClientOptions.builder().url(url).apiKey(apiKey)
        .reconnectDelays(Duration.ofMillis(20), Duration.ofMillis(200)).maxReconnectAttempts(200).build();
  }

  @Test
  void aSubscriberSeesEverySequenceOnceAcrossABrokerRestart(Vertx vertx) throws Exception {
    int total = 400;
    try (BrokerFixture broker = BrokerFixture.start(vertx, dataDir)) {
      StreamConnection subscriber = DurableStream.connect(vertx, options(broker.url(), BrokerFixture.API_KEY),
          "reconnect.sub").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      StreamConnection publisher = DurableStream.connect(vertx, options(broker.url(), BrokerFixture.API_KEY),
          "reconnect.sub").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      List<Long> seen = new CopyOnWriteArrayList<>();
      CountDownLatch all = new CountDownLatch(total);
      CountDownLatch reconnected = new CountDownLatch(2);
      subscriber.reconnectHandler(v -> reconnected.countDown());
      publisher.reconnectHandler(v -> reconnected.countDown());
      Subscription subscription = subscriber.subscribe(SubscribeOptions.fromFirstRetained(), message -> {
        seen.add(message.sequence());
        all.countDown();
      }).await(AWAIT_SECONDS, TimeUnit.SECONDS);

      List<Object> firstHalf = new ArrayList<>();
      List<Object> secondHalf = new ArrayList<>();
      for (int n = 1; n <= total / 2; n++) {
        firstHalf.add(new JsonObject().put("n", n));
        secondHalf.add(new JsonObject().put("n", n + total / 2));
      }
      Future<List<Long>> before = publisher.publishAll(firstHalf);
      // Stopped while the batch is in flight: some publishes are stored without their reply reaching the client.
      broker.stop();
      Future<List<Long>> during = publisher.publishAll(secondHalf);
      broker.restart(BrokerFixture.API_KEY);

      List<Long> sequences = new ArrayList<>(before.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      sequences.addAll(during.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertTrue(reconnected.await(AWAIT_SECONDS, TimeUnit.SECONDS), "both connections reconnect");
      assertTrue(all.await(AWAIT_SECONDS, TimeUnit.SECONDS), "subscriber got " + seen.size() + " of " + total);

      List<Long> expected = LongStream.rangeClosed(1, total).boxed().toList();
      assertEquals(expected, sequences, "every publish stored once, in order, retries deduplicated");
      assertEquals(total, publisher.info().await(AWAIT_SECONDS, TimeUnit.SECONDS).messages());
      publisher.publish("last").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      long deadline = System.currentTimeMillis() + AWAIT_SECONDS * 1000;
      while (seen.size() <= total && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      List<Long> expectedSeen = LongStream.rangeClosed(1, total + 1).boxed().toList();
      assertEquals(expectedSeen, seen, "no sequence lost, none twice, in order");
      assertEquals(total + 1, subscription.lastAckedSequence());
      assertEquals(new HashSet<>(seen).size(), seen.size());
      subscriber.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
      publisher.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void aPublishWhoseReplyWasLostIsSentAgainAndStoredOnce(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dataDir);
         CuttingProxy proxy = CuttingProxy.start(vertx, broker.port())) {
      StreamConnection viaProxy = DurableStream.connect(vertx,
          options("http://127.0.0.1:" + proxy.port(), BrokerFixture.API_KEY), "reconnect.dedup")
          .await(AWAIT_SECONDS, TimeUnit.SECONDS);
      StreamConnection observer = DurableStream.connect(vertx, options(broker.url(), BrokerFixture.API_KEY),
          "reconnect.dedup").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(1L, viaProxy.publish("first").await(AWAIT_SECONDS, TimeUnit.SECONDS));

      proxy.swallowReplies();
      Future<Long> retried = viaProxy.publish("second");
      long deadline = System.currentTimeMillis() + AWAIT_SECONDS * 1000;
      while (observer.info().await(AWAIT_SECONDS, TimeUnit.SECONDS).lastSequence() < 2
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      assertEquals(2L, observer.info().await(AWAIT_SECONDS, TimeUnit.SECONDS).lastSequence(), "stored, reply lost");
      proxy.cutAll();

      assertEquals(2L, retried.await(AWAIT_SECONDS, TimeUnit.SECONDS), "the retry gets the original sequence");
      StreamInfo info = observer.info().await(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(2L, info.lastSequence(), "the retry was not stored again");
      assertEquals(2L, info.messages());
      assertEquals(3L, viaProxy.publish("third").await(AWAIT_SECONDS, TimeUnit.SECONDS));
      viaProxy.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
      observer.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void aCommandInFlightFailsFastWhileSafeRequestsAreRetried(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dataDir);
         CuttingProxy proxy = CuttingProxy.start(vertx, broker.port())) {
      StreamConnection viaProxy = DurableStream.connect(vertx,
          options("http://127.0.0.1:" + proxy.port(), BrokerFixture.API_KEY), "reconnect.inflight")
          .await(AWAIT_SECONDS, TimeUnit.SECONDS);
      StreamConnection observer = DurableStream.connect(vertx, options(broker.url(), BrokerFixture.API_KEY),
          "reconnect.inflight").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      proxy.swallowReplies();
      Future<JsonObject> command = viaProxy.command(new JsonObject().put("cmd", "getServerInfo"));
      Future<JsonObject> state = viaProxy.getState();
      Future<Long> published = viaProxy.publish("kept");
      // Requests go out in order: once the publish is stored, the command and getState were sent too.
      long deadline = System.currentTimeMillis() + AWAIT_SECONDS * 1000;
      while (observer.info().await(AWAIT_SECONDS, TimeUnit.SECONDS).lastSequence() < 1
          && System.currentTimeMillis() < deadline) {
        Thread.sleep(10);
      }
      proxy.cutAll();

      Throwable failure = assertThrows(Exception.class, () -> command.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertEquals(StreamException.CONNECTION_CLOSED, assertInstanceOf(StreamException.class, failure).code());
      assertEquals(new JsonObject(), state.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertEquals(1L, published.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertEquals(1L, observer.info().await(AWAIT_SECONDS, TimeUnit.SECONDS).messages());
      viaProxy.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
      observer.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void aManualAckSubscriberAcksLateMessagesAfterAReconnectWithoutSeeingThemAgain(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dataDir)) {
      StreamConnection connection = DurableStream.connect(vertx, options(broker.url(), BrokerFixture.API_KEY),
          "reconnect.manual").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      for (int n = 1; n <= 3; n++) {
        connection.publish(n).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      }
      BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();
      Subscription subscription = connection.subscribe(SubscribeOptions.builder().autoAck(false).build(), received::add)
          .await(AWAIT_SECONDS, TimeUnit.SECONDS);
      StreamMessage first = received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
      StreamMessage second = received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
      StreamMessage third = received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
      first.ack();
      assertEquals(1, subscription.lastAckedSequence());

      CountDownLatch reconnected = new CountDownLatch(1);
      connection.reconnectHandler(v -> reconnected.countDown());
      broker.stop();
      broker.restart(BrokerFixture.API_KEY);
      assertTrue(reconnected.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      // The old messages' acks reach the new deliveries of 2 and 3; the handler never sees them again.
      second.ack();
      third.ack();
      connection.publish(4).await(AWAIT_SECONDS, TimeUnit.SECONDS);
      StreamMessage fourth = received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
      assertEquals(4L, fourth.sequence());
      fourth.ack();
      assertEquals(4, subscription.lastAckedSequence());
      assertEquals(0, received.size());
      connection.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void refusedCredentialsOnReconnectEndTheConnectionWithoutRetrying(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dataDir)) {
      StreamConnection connection = DurableStream.connect(vertx, options(broker.url(), BrokerFixture.API_KEY),
          "reconnect.auth").await(AWAIT_SECONDS, TimeUnit.SECONDS);
      BlockingQueue<StreamException> errors = new LinkedBlockingQueue<>();
      CountDownLatch closed = new CountDownLatch(1);
      connection.errorHandler(errors::add).closeHandler(v -> closed.countDown());
      broker.stop();
      Future<Long> waiting = connection.publish("never stored");
      broker.restart("another-key");

      assertTrue(closed.await(AWAIT_SECONDS, TimeUnit.SECONDS), "the connection closes instead of retrying");
      assertTrue(connection.isClosed());
      Throwable failure = assertThrows(Exception.class, () -> waiting.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertInstanceOf(AuthenticationException.class, failure);
      assertEquals(StreamException.CONNECTION_LOST, errors.poll(AWAIT_SECONDS, TimeUnit.SECONDS).code());
      assertInstanceOf(AuthenticationException.class, errors.poll(AWAIT_SECONDS, TimeUnit.SECONDS));
      connection.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }

  @Test
  void withoutReconnectsALostConnectionClosesAndFailsWhatWaits(Vertx vertx) throws Exception {
    try (BrokerFixture broker = BrokerFixture.start(vertx, dataDir)) {
      ClientOptions options = ClientOptions.builder().url(broker.url()).apiKey(BrokerFixture.API_KEY)
          .maxReconnectAttempts(0).build();
      StreamConnection connection = DurableStream.connect(vertx, options, "reconnect.off")
          .await(AWAIT_SECONDS, TimeUnit.SECONDS);
      CountDownLatch closed = new CountDownLatch(1);
      connection.closeHandler(v -> closed.countDown());
      broker.stop();
      assertTrue(closed.await(AWAIT_SECONDS, TimeUnit.SECONDS));
      Throwable failure = assertThrows(Exception.class, () -> connection.publish(1).await(AWAIT_SECONDS, TimeUnit.SECONDS));
      assertEquals(StreamException.CONNECTION_CLOSED, assertInstanceOf(StreamException.class, failure).code());
      connection.close().await(AWAIT_SECONDS, TimeUnit.SECONDS);
    }
  }
}
