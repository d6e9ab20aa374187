package io.dstream.broker.metrics;

import io.dstream.broker.TestBroker;
import io.dstream.broker.ws.V1TestClient;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code /metrics} shows what an operator watches, in Prometheus text format, and no secrets. */
@ExtendWith(VertxExtension.class)
class MetricsTest {

  @Test
  void scrapeCoversPublishingDeliveryStorageAndTheJvm(Vertx vertx) throws Exception {
    try (TestBroker broker = TestBroker.start(vertx);
         V1TestClient client = V1TestClient.connect(vertx, broker.port(), "metered", TestBroker.API_KEY)) {
      client.request(new JsonObject().put("n", 1));
      client.request(new JsonObject().put("cmd", "subscribe").put("startSequence", 1));
      client.nextPush();
      Thread.sleep(1_200);
      String scrape = WebClient.create(vertx).get(broker.port(), "127.0.0.1", "/metrics")
          .putHeader("Authorization", "Bearer " + TestBroker.API_KEY).send().await().bodyAsString();
      for (String metric : new String[] {
          "dstream_messages_published_total 1.0", "dstream_publish_ack_latency_seconds_bucket",
          "dstream_commit_latency_seconds_bucket", "dstream_commit_group_writes_count", "dstream_commits_total",
          "dstream_in_flight 1.0", "dstream_websockets 1.0", "dstream_actors_active 1.0", "dstream_redeliveries_total",
          "dstream_dropped_after_max_deliver_total", "dstream_forbidden_total", "dstream_unauthenticated_total",
          "dstream_rate_limited_total", "dstream_slow_consumers_closed_total", "dstream_connections_refused_total",
          "jvm_memory_used_bytes"}) {
        assertTrue(scrape.contains(metric), "missing " + metric);
      }
      assertFalse(scrape.contains(TestBroker.API_KEY), "a secret leaked into the metrics");
    }
  }
}
