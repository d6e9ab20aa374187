package io.dstream.cli;

import io.dstream.broker.Broker;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.config.NatsSettings;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * The real broker in-process for CLI tests, its HTTP and NATS ports free loopback ones, and the environment that
 * points dstream at both.
 */
final class CliBroker {

  private static final long AWAIT_SECONDS = 60;

  private CliBroker() {
  }

  static Broker start(Vertx vertx, Path dataDir, String apiKey, UnaryOperator<BrokerConfig.Builder> customizer)
      throws Exception {
    return Broker.start(vertx, customizer.apply(BrokerConfig.builder().host("127.0.0.1").port(0).dataDir(dataDir)
        .apiKey(apiKey).nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT))).build())
        .await(AWAIT_SECONDS, TimeUnit.SECONDS);
  }

  static String url(Broker broker) {
    return "http://127.0.0.1:" + broker.port();
  }

  static String natsUrl(Broker broker) {
    return "nats://127.0.0.1:" + broker.natsPort();
  }

  /** @return DSTREAM_URL, DSTREAM_NATS_URL and DSTREAM_API_KEY for {@code broker} */
  static Map<String, String> env(Broker broker, String apiKey) {
    return Map.of("DSTREAM_URL", url(broker), "DSTREAM_NATS_URL", natsUrl(broker), "DSTREAM_API_KEY", apiKey);
  }

  static void stop(Broker broker) throws Exception {
    broker.stop().await(AWAIT_SECONDS, TimeUnit.SECONDS);
  }
}
