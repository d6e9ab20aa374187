package io.dstream.broker;

import io.dstream.broker.config.BrokerConfig;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;

/** A real broker on 127.0.0.1, a free port and its own H2 file, for one test class or test. */
public final class TestBroker implements AutoCloseable {

  public static final String API_KEY = "test-key";

  public final Vertx vertx;
  public final Path dataDir;
  private final UnaryOperator<BrokerConfig.Builder> customizer;
  private Broker broker;

  private TestBroker(Vertx vertx, Path dataDir, UnaryOperator<BrokerConfig.Builder> customizer) {
    this.vertx = vertx;
    this.dataDir = dataDir;
    this.customizer = customizer;
  }

  public static TestBroker start(Vertx vertx) throws IOException {
    return start(vertx, b -> b);
  }

  public static TestBroker start(Vertx vertx, UnaryOperator<BrokerConfig.Builder> customizer) throws IOException {
    return start(vertx, Files.createTempDirectory("dstream-test"), customizer);
  }

  public static TestBroker start(Vertx vertx, Path dataDir, UnaryOperator<BrokerConfig.Builder> customizer) {
    TestBroker test = new TestBroker(vertx, dataDir, customizer);
    test.restart();
    return test;
  }

  /** Starts (again) on the same data dir and a new free port. */
  public void restart() {
    BrokerConfig config = customizer.apply(BrokerConfig.builder().port(0).dataDir(dataDir).apiKey(API_KEY)).build();
    broker = Broker.start(vertx, config).await();
  }

  public void stop() {
    if (broker != null) {
      broker.stop().await();
      broker = null;
    }
  }

  public int port() {
    return broker.port();
  }

  public Broker broker() {
    return broker;
  }

  @Override
  public void close() {
    stop();
  }
}
