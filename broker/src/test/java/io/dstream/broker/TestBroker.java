package io.dstream.broker;

import io.dstream.broker.cluster.ClusterRouting;
import io.dstream.broker.config.BrokerConfig;
import io.vertx.core.Vertx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.function.UnaryOperator;

/** A real broker on 127.0.0.1, a free port and its own H2 file, for one test class or test. */
public final class TestBroker implements AutoCloseable {

  public static final String API_KEY = "test-key";

  public final Vertx vertx;
  public final Path dataDir;
  private final UnaryOperator<BrokerConfig.Builder> customizer;
  private final ClusterRouting routing;
  private final Duration forwardTimeout;
  private Broker broker;

  private TestBroker(Vertx vertx, Path dataDir, UnaryOperator<BrokerConfig.Builder> customizer, ClusterRouting routing,
                     Duration forwardTimeout) {
    this.vertx = vertx;
    this.dataDir = dataDir;
    this.customizer = customizer;
    this.routing = routing;
    this.forwardTimeout = forwardTimeout;
  }

  public static TestBroker start(Vertx vertx) throws IOException {
    return start(vertx, b -> b);
  }

  public static TestBroker start(Vertx vertx, UnaryOperator<BrokerConfig.Builder> customizer) throws IOException {
    return start(vertx, Files.createTempDirectory("dstream-test"), customizer);
  }

  public static TestBroker start(Vertx vertx, Path dataDir, UnaryOperator<BrokerConfig.Builder> customizer) {
    TestBroker test = new TestBroker(vertx, dataDir, customizer, null, null);
    test.restart();
    return test;
  }

  /** A broker that sends subject requests where {@code routing} says, as a cluster node does. */
  public static TestBroker startRouted(Vertx vertx, ClusterRouting routing, Duration forwardTimeout,
                                       UnaryOperator<BrokerConfig.Builder> customizer) throws IOException {
    TestBroker test = new TestBroker(vertx, Files.createTempDirectory("dstream-test"), customizer, routing, forwardTimeout);
    test.restart();
    return test;
  }

  /** Starts (again) on the same data dir and a new free port. */
  public void restart() {
    BrokerConfig config = customizer.apply(BrokerConfig.builder().port(0).dataDir(dataDir).apiKey(API_KEY)).build();
    broker = Broker.start(vertx, config, routing, forwardTimeout).await();
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
