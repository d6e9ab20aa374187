package io.dstream.broker.stream;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** The per-subscriber ack window: bounded in-flight, redelivery, maxDeliver, release on close. */
class AckWindowTest {

  private Vertx vertx;
  private TestBroker broker;

  @BeforeEach
  void start() {
    vertx = Vertx.vertx();
  }

  @AfterEach
  void stop() {
    if (broker != null) {
      broker.close();
    }
    vertx.close().await();
  }

  private V1TestClient connect(String subject) {
    return V1TestClient.connect(vertx, broker.port(), subject, TestBroker.API_KEY);
  }

  @Test
  void noMoreThanMaxInFlightUnackedPushesAndEachAckFreesOneSlot() throws Exception {
    broker = TestBroker.start(vertx, b -> b.maxInFlight(5));
    try (V1TestClient client = connect("window")) {
      for (int i = 0; i < 20; i++) {
        client.request(i);
      }
      client.command("subscribe");
      JsonObject first = client.nextPush();
      for (int i = 2; i <= 5; i++) {
        assertEquals(i, client.nextPush().getLong("sequence"));
      }
      assertNull(client.pushes.poll(300, TimeUnit.MILLISECONDS), "a sixth push beyond the window");
      client.ack(first);
      assertEquals(6L, client.nextPush().getLong("sequence"));
      assertNull(client.pushes.poll(300, TimeUnit.MILLISECONDS));
    }
  }

  @Test
  void unackedPushIsRedeliveredWithTheSameSequenceAndANewSMsgId() throws Exception {
    broker = TestBroker.start(vertx, b -> b.ackTimeout(Duration.ofMillis(300)));
    try (V1TestClient client = connect("redeliver")) {
      client.request("once");
      client.command("subscribe");
      JsonObject first = client.nextPush();
      JsonObject again = client.nextPush();
      assertEquals(first.getLong("sequence"), again.getLong("sequence"));
      assertNotEquals(first.getLong("sMsgId"), again.getLong("sMsgId"));
      client.ack(again);
      assertNull(client.pushes.poll(700, TimeUnit.MILLISECONDS), "acked message delivered again");
      client.ack(first);
      assertEquals("unknown_ack", client.nextReply().getJsonObject("error").getString("code"));
    }
  }

  @Test
  void afterMaxDeliverTheMessageIsSkippedAndCounted() throws Exception {
    broker = TestBroker.start(vertx, b -> b.ackTimeout(Duration.ofMillis(200)).maxDeliver(3));
    try (V1TestClient client = connect("poison")) {
      client.request("poison");
      client.command("subscribe");
      for (int delivery = 1; delivery <= 3; delivery++) {
        assertEquals(1L, client.nextPush().getLong("sequence"));
      }
      assertNull(client.pushes.poll(600, TimeUnit.MILLISECONDS), "delivered more than maxDeliver times");
      assertEquals(1.0, broker.broker().metrics().droppedAfterMaxDeliver.count());
      client.request("next");
      JsonObject next = client.nextPush();
      assertEquals(2L, next.getLong("sequence"));
    }
  }

  @Test
  void aSubscriberThatNeverAcksSlowsNeitherPublishersNorOtherSubscribers() throws Exception {
    broker = TestBroker.start(vertx, b -> b.maxInFlight(16));
    try (V1TestClient stuck = connect("slow"); V1TestClient healthy = connect("slow");
         V1TestClient publisher = connect("slow")) {
      stuck.command("subscribe");
      healthy.command("subscribe");
      int count = 2_000;
      for (int i = 0; i < count; i++) {
        publisher.send(i);
      }
      for (int i = 0; i < count; i++) {
        publisher.nextReply();
      }
      for (long expected = 1; expected <= count; expected++) {
        JsonObject push = healthy.nextPush();
        assertEquals(expected, push.getLong("sequence"));
        healthy.ack(push);
      }
      for (int i = 0; i < 16; i++) {
        stuck.nextPush();
      }
      assertNull(stuck.pushes.poll(300, TimeUnit.MILLISECONDS), "the stuck subscriber got more than its window");
    }
  }

  @Test
  void closingTheSocketReleasesItsSubscriptionAndPendingDeliveries() throws Exception {
    broker = TestBroker.start(vertx, b -> b.maxInFlight(2));
    try (V1TestClient observer = connect("release")) {
      V1TestClient subscriber = connect("release");
      observer.request("a");
      observer.request("b");
      observer.request("c");
      subscriber.command("subscribe");
      subscriber.nextPush();
      subscriber.nextPush();
      assertEquals(1, observer.command("getStreamInfo").getJsonObject("stream").getInteger("subscribers"));
      subscriber.close();
      long deadline = System.currentTimeMillis() + 5_000;
      int subscribers;
      do {
        subscribers = observer.command("getStreamInfo").getJsonObject("stream").getInteger("subscribers");
      } while (subscribers != 0 && System.currentTimeMillis() < deadline);
      assertEquals(0, subscribers);
      observer.command("subscribe");
      assertEquals(1L, observer.nextPush().getLong("sequence"), "a new subscriber starts unaffected");
    }
  }
}
