package io.dstream.client;

import io.dstream.broker.Broker;
import io.dstream.broker.config.BrokerConfig;
import io.vertx.core.Vertx;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.UnaryOperator;

/**
 * The real broker in-process on 127.0.0.1 with its own data dir, for client tests. A restart reuses the
 * data dir and the port, as a broker restarted by an operator would, so clients can reconnect to it.
 */
final class BrokerFixture implements AutoCloseable {

  static final String API_KEY = "client-test-key";
  private static final long AWAIT_SECONDS = 30;

  private final Vertx vertx;
  private final Path dataDir;
  private final UnaryOperator<BrokerConfig.Builder> customizer;
  private Broker broker;
  private int port;

  private BrokerFixture(Vertx vertx, Path dataDir, UnaryOperator<BrokerConfig.Builder> customizer) {
    this.vertx = vertx;
    this.dataDir = dataDir;
    this.customizer = customizer;
  }

  static BrokerFixture start(Vertx vertx, Path dataDir) throws TimeoutException {
    return start(vertx, dataDir, b -> b);
  }

  static BrokerFixture start(Vertx vertx, Path dataDir, UnaryOperator<BrokerConfig.Builder> customizer)
      throws TimeoutException {
    BrokerFixture fixture = new BrokerFixture(vertx, dataDir, customizer);
    fixture.restart(API_KEY);
    return fixture;
  }

  /** Starts again on the same data dir and port (a free port the first time), with {@code apiKey}. */
  void restart(String apiKey) throws TimeoutException {
    BrokerConfig config = customizer.apply(BrokerConfig.builder().host("127.0.0.1").port(port).dataDir(dataDir)
        .apiKey(apiKey)).build();
    broker = Broker.start(vertx, config).await(AWAIT_SECONDS, TimeUnit.SECONDS);
    port = broker.port();
  }

  void stop() throws TimeoutException {
    if (broker != null) {
      broker.stop().await(AWAIT_SECONDS, TimeUnit.SECONDS);
      broker = null;
    }
  }

  String url() {
    return "http://127.0.0.1:" + port;
  }

  /** @return the NATS URL, when the customizer turned the NATS port on */
  String natsUrl() {
    return "nats://127.0.0.1:" + broker.natsPort();
  }

  int port() {
    return port;
  }

  @Override
  public void close() throws TimeoutException {
    stop();
  }
}
