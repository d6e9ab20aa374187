package io.dstream.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.broker.Broker;
import io.dstream.broker.config.BrokerConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Path;
import java.time.Instant;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The client against a real broker on a loopback port: protocol v1 as the client's API exposes it.
 * Each test uses its own subject, so the tests share one broker without seeing each other's messages.
 */
@ExtendWith(VertxExtension.class)
class StreamConnectionTest {

  private static final String API_KEY = "client-test-key";
  /** Small enough that a subscriber which never acks stalls after a few messages. */
  private static final int MAX_IN_FLIGHT = 2;
  /** Short, so the redelivery test waits briefly; long enough that prompt acks never race it. */
  private static final Duration ACK_TIMEOUT = Duration.ofSeconds(2);
  private static final long AWAIT_SECONDS = 10;

  @TempDir
  static Path dataDir;

  private static Broker broker;
  private static String url;

  private final List<StreamConnection> connections = new ArrayList<>();

  @BeforeAll
  static void startBroker(Vertx vertx) throws Exception {
    BrokerConfig config = BrokerConfig.builder()
        .host("127.0.0.1")
        .port(0)
        .dataDir(dataDir)
        .apiKey(API_KEY)
        .maxInFlight(MAX_IN_FLIGHT)
        .ackTimeout(ACK_TIMEOUT)
        .build();
    broker = await(Broker.start(vertx, config));
    url = "http://127.0.0.1:" + broker.port();
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (broker != null) {
      await(broker.stop());
    }
  }

  @AfterEach
  void closeConnections() throws Exception {
    for (StreamConnection connection : connections) {
      await(connection.close());
    }
  }

  @Test
  void publishReturnsIncreasingSequences(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.publish.sequences");

    assertEquals(1L, await(connection.publish(new JsonObject().put("n", 1))));
    assertEquals(2L, await(connection.publish("two")));
    assertEquals(3L, await(connection.publish(3)));
  }

  @Test
  void everyJsonValueRoundTripsAsData(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.publish.values");
    List<Object> values = Arrays.asList(new JsonObject().put("a", 1), new JsonArray().add("x").add(2), "text",
        12.5, Long.MAX_VALUE, true, null);
    for (Object value : values) {
      await(connection.publish(value));
    }

    BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();
    await(connection.subscribe(SubscribeOptions.fromFirstRetained(), received::add));
    List<Object> data = new ArrayList<>();
    for (int n = 0; n < values.size(); n++) {
      data.add(next(received).data());
    }

    assertEquals(values, data);
  }

  @Test
  void subscribeReplaysInOrderAndExplicitAcksOpenTheWindow(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.subscribe.explicit");
    int count = MAX_IN_FLIGHT * 3;
    for (int n = 1; n <= count; n++) {
      await(connection.publish(new JsonObject().put("n", n)));
    }

    BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();
    SubscribeOptions options = SubscribeOptions.builder().startSequence(1).autoAck(false).build();
    await(connection.subscribe(options, received::add));

    // Past the first window, each message arrives only because the previous ones were acked.
    for (long n = 1; n <= count; n++) {
      StreamMessage message = next(received);
      assertEquals(n, message.sequence());
      assertEquals(n, ((JsonObject) message.data()).getLong("n"));
      message.ack();
    }
  }

  @Test
  void autoAckSubscriptionReceivesReplayThenLiveMessages(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.subscribe.auto");
    int replayed = MAX_IN_FLIGHT * 2;
    for (int n = 1; n <= replayed; n++) {
      await(connection.publish(n));
    }

    BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();
    await(connection.subscribe(SubscribeOptions.fromFirstRetained(), received::add));
    List<Object> values = new ArrayList<>();
    for (int n = 1; n <= replayed; n++) {
      values.add(next(received).data());
    }
    await(connection.publish("live"));
    values.add(next(received).data());

    assertEquals(List.of(1, 2, 3, 4, "live"), values);
  }

  @Test
  void subscribeFromLaterSequenceSkipsEarlierMessages(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.subscribe.from");
    for (int n = 1; n <= 3; n++) {
      await(connection.publish(n));
    }

    BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();
    await(connection.subscribe(SubscribeOptions.fromSequence(3), received::add));

    StreamMessage message = next(received);
    assertEquals(3L, message.sequence());
    assertEquals(3L, message.json().getLong("sequence"));
    assertFalse(message.json().containsKey("pub"));
    assertFalse(message.json().containsKey("sMsgId"));
  }

  @Test
  void messageWhoseHandlerThrowsIsRedelivered(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.subscribe.redeliver");
    await(connection.publish("flaky"));

    BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();
    AtomicInteger deliveries = new AtomicInteger();
    await(connection.subscribe(SubscribeOptions.fromFirstRetained(), message -> {
      received.add(message);
      if (deliveries.incrementAndGet() == 1) {
        throw new IllegalStateException("expected by the test: fail the first delivery");
      }
    }));

    assertEquals(1L, next(received).sequence());
    assertEquals(1L, next(received).sequence());
  }

  @Test
  void publishAllPipelinesInOrder(Vertx vertx) throws Exception {
    ClientOptions options = ClientOptions.builder().url(url).apiKey(API_KEY).publishWindow(8).build();
    StreamConnection connection = await(DurableStream.connect(vertx, options, "test.publish.all"));
    connections.add(connection);
    List<Object> data = new ArrayList<>();
    for (int n = 0; n < 100; n++) {
      data.add(n);
    }

    List<Long> sequences = await(connection.publishAll(data));

    assertEquals(LongStream.rangeClosed(1, 100).boxed().toList(), sequences);
    assertEquals(List.of(), await(connection.publishAll(List.of())));
    failure(connection.publishAll(List.of(1, new Object())), IllegalArgumentException.class);
    assertEquals(100, await(connection.info()).lastSequence(), "an invalid batch sends nothing");
  }

  @Test
  void subscribeFromNewSkipsEverythingRetained(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.subscribe.new");
    await(connection.publish("old"));
    BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();
    await(connection.subscribe(SubscribeOptions.fromNew(), received::add));

    await(connection.publish("new"));

    StreamMessage message = next(received);
    assertEquals(2L, message.sequence());
    assertEquals("new", message.data());
  }

  @Test
  void subscribeFromTimeStartsAtTheFirstLaterMessage(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.subscribe.time");
    await(connection.publish("before"));
    Instant start = Instant.now().plusMillis(2);
    long deadline = System.currentTimeMillis() + AWAIT_SECONDS * 1000;
    while (!Instant.now().isAfter(start) && System.currentTimeMillis() < deadline) {
      Thread.sleep(1);
    }
    await(connection.publish("after"));
    BlockingQueue<StreamMessage> received = new LinkedBlockingQueue<>();

    Subscription subscription = await(connection.subscribe(SubscribeOptions.fromTime(start), received::add));

    assertEquals("after", next(received).data());
    assertEquals(2L, subscription.lastDeliveredSequence());
  }

  @Test
  void secondSubscribeOnOneConnectionFailsFast(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.subscribe.twice");
    await(connection.subscribe(SubscribeOptions.fromFirstRetained(), message -> { }));

    StreamException e = failure(connection.subscribe(SubscribeOptions.fromFirstRetained(), message -> { }),
        StreamException.class);
    assertEquals(StreamException.ALREADY_SUBSCRIBED, e.code());
  }

  @Test
  void unsubscribeRemovesTheSubscriber(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.unsubscribe");
    Subscription subscription = await(connection.subscribe(SubscribeOptions.fromFirstRetained(), message -> { }));
    assertEquals(1, await(connection.info()).subscribers());

    await(subscription.unsubscribe());

    assertFalse(subscription.isActive());
    assertEquals(0, await(connection.info()).subscribers());
  }

  @Test
  void stateRoundTrips(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.state");
    assertEquals(new JsonObject(), await(connection.getState()));

    JsonObject state = new JsonObject()
        .put("cursor", 42)
        .put("nested", new JsonObject().put("list", new JsonArray().add(1).add("b")));
    await(connection.putState(state));

    assertEquals(state, await(connection.getState()));
  }

  @Test
  void stateRevisionsAnExpectedRevisionAndAWatch(Vertx vertx) throws Exception {
    StreamConnection writer = connect(vertx, "test.versioned");
    StreamConnection watcher = connect(vertx, "test.versioned");
    assertEquals(new VersionedState(new JsonObject(), 0), await(writer.getVersionedState()));
    assertEquals(1L, await(writer.putState(new JsonObject().put("n", 1))));
    BlockingQueue<VersionedState> seen = new LinkedBlockingQueue<>();
    StateWatch watch = await(watcher.watchState(seen::add));
    assertEquals(new VersionedState(new JsonObject().put("n", 1), 1), seen.poll(AWAIT_SECONDS, TimeUnit.SECONDS),
        "the current state first");
    assertEquals(2L, await(writer.putState(new JsonObject().put("n", 2), 1)));
    StreamException conflict = failure(writer.putState(new JsonObject().put("n", 3), 1), StreamException.class);
    assertEquals(StreamException.WRONG_REVISION, conflict.code());
    assertEquals("wrong revision: expected 1, state is at revision 2", conflict.getMessage());
    assertEquals(new VersionedState(new JsonObject().put("n", 2), 2), seen.poll(AWAIT_SECONDS, TimeUnit.SECONDS));
    assertEquals(2, watch.lastRevision());
    await(watch.unwatch());
    assertFalse(watch.isActive());
    await(writer.putState(new JsonObject().put("n", 4)));
    assertEquals(3L, await(watcher.getVersionedState()).revision());
    assertNull(seen.poll(200, TimeUnit.MILLISECONDS), "nothing after unwatch");
  }

  @Test
  void deleteMessagesMovesTheFirstSequence(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.delete");
    for (int n = 1; n <= 3; n++) {
      await(connection.publish(n));
    }

    await(connection.deleteMessages(2));

    StreamInfo info = await(connection.info());
    assertEquals(3, info.firstSequence());
    assertEquals(3, info.lastSequence());
    assertEquals(1, info.messages());
  }

  @Test
  void brokerErrorFailsOnlyThatRequest(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.errors");

    StreamException e = failure(connection.command(new JsonObject().put("cmd", "noSuchCommand")),
        StreamException.class);
    assertEquals(StreamException.UNKNOWN_COMMAND, e.code());
    assertTrue(e.getMessage().contains("noSuchCommand"), e.getMessage());

    assertEquals(1L, await(connection.publish("still usable")));
  }

  @Test
  void publishingAnObjectWithCmdIsRefusedLocally(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.publish.cmd");

    failure(connection.publish(new JsonObject().put("cmd", "getState")), IllegalArgumentException.class);
    failure(connection.publish(new Object()), IllegalArgumentException.class);
  }

  @Test
  void wrongApiKeyFailsWithAuthenticationException(Vertx vertx) throws Exception {
    AuthenticationException e = failure(DurableStream.connect(vertx, url, "test.auth", "wrong-key"),
        AuthenticationException.class);
    assertFalse(e.getMessage().contains("wrong-key"), "the key stays out of messages: " + e.getMessage());
  }

  @Test
  void invalidSubjectFailsWithStreamException(Vertx vertx) throws Exception {
    StreamException e = failure(DurableStream.connect(vertx, url, "bad..subject", API_KEY), StreamException.class);
    assertEquals(StreamException.INVALID_SUBJECT, e.code());
    assertTrue(e.getMessage().contains("400"), e.getMessage());
  }

  @Test
  void requestsAfterCloseFailWithConnectionClosed(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.close");
    await(connection.close());

    assertTrue(connection.isClosed());
    StreamException e = failure(connection.publish("late"), StreamException.class);
    assertEquals(StreamException.CONNECTION_CLOSED, e.code());
  }

  @Test
  void requestsInFlightAtCloseCompleteEitherWay(Vertx vertx) throws Exception {
    StreamConnection connection = connect(vertx, "test.close.inflight");
    List<Future<Long>> published = new ArrayList<>();
    for (int n = 0; n < 50; n++) {
      published.add(connection.publish(n));
    }

    await(connection.close());

    for (Future<Long> future : published) {
      await(future.otherwise(e -> {
        assertEquals(StreamException.CONNECTION_CLOSED, assertInstanceOf(StreamException.class, e).code());
        return -1L;
      }));
    }
  }

  @Test
  void requestsBeyondMaxPendingFailFast(Vertx vertx) throws Exception {
    ClientOptions options = ClientOptions.builder().url(url).apiKey(API_KEY).maxPendingRequests(1).build();
    StreamConnection connection = await(DurableStream.connect(vertx, options, "test.pending"));
    connections.add(connection);

    // Sent back to back, the later ones find the first still waiting for its durable write.
    List<Future<Long>> published = new ArrayList<>();
    for (int n = 0; n < 10; n++) {
      published.add(connection.publish(n));
    }

    assertEquals(1L, await(published.get(0)));
    StreamException e = failure(published.get(1), StreamException.class);
    assertEquals(StreamException.TOO_MANY_PENDING, e.code());
  }

  @Test
  void connectWithoutVertxOwnsAndReleasesOne() throws Exception {
    StreamConnection connection = await(DurableStream.connect(url, "test.owned", API_KEY));
    try {
      assertEquals(1L, await(connection.publish("owned")));
    } finally {
      await(connection.close());
    }
  }

  private StreamConnection connect(Vertx vertx, String subject) throws Exception {
    StreamConnection connection = await(DurableStream.connect(vertx, url, subject, API_KEY));
    connections.add(connection);
    return connection;
  }

  private static StreamMessage next(BlockingQueue<StreamMessage> received) throws InterruptedException {
    StreamMessage message = received.poll(AWAIT_SECONDS, TimeUnit.SECONDS);
    assertNotNull(message, "no message within " + AWAIT_SECONDS + " s");
    return message;
  }

  private static <T> T await(Future<T> future) throws TimeoutException {
    return future.await(AWAIT_SECONDS, TimeUnit.SECONDS);
  }

  private static <E extends Throwable> E failure(Future<?> future, Class<E> type) {
    Throwable thrown = assertThrows(Throwable.class, () -> await(future));
    return assertInstanceOf(type, thrown);
  }
}
