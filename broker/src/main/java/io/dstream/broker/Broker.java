package io.dstream.broker;

import io.dstream.broker.auth.ApiKeyAuthenticator;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.http.ClientAddresses;
import io.dstream.broker.http.HttpApi;
import io.dstream.broker.http.HttpListener;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.store.GroupCommitWriter;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.MvMessageStore;
import io.dstream.broker.stream.StreamEnvironment;
import io.dstream.broker.stream.StreamRegistry;
import io.dstream.broker.ws.V1Endpoint;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Files;
import java.time.Clock;

/**
 * A running broker: store, writer, actor shards and the HTTP/WebSocket listener, started in that
 * order by {@link #start} and stopped in reverse by {@link #stop}. A step that fails undoes the
 * steps before it, so a failed start leaves nothing open.
 */
public final class Broker {

  private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
  private static final int STORE_READER_THREADS = 4;

  private final Vertx vertx;
  private final BrokerConfig config;
  private final BrokerMetrics metrics = new BrokerMetrics();
  private MessageStore store;
  private GroupCommitWriter writer;
  private WorkerExecutor readers;
  private StreamRegistry registry;
  private HttpServer server;
  private String listeners;

  private Broker(Vertx vertx, BrokerConfig config) {
    this.vertx = vertx;
    this.config = config;
  }

  /** Starts a broker; the future fails (with everything closed again) if any step fails. */
  public static Future<Broker> start(Vertx vertx, BrokerConfig config) {
    Broker broker = new Broker(vertx, config);
    return broker.startSteps().recover(failure -> broker.stop().transform(ignored -> Future.failedFuture(failure)));
  }

  private Future<Broker> startSteps() {
    return vertx.executeBlocking(() -> {
      Files.createDirectories(config.dataDir());
      ApiKeyAuthenticator authenticator = ApiKeyAuthenticator.load(config.dataDir(), config.apiKey());
      store = MvMessageStore.open(config.dataDir(), config.storeCacheMb());
      return authenticator;
    }).compose(authenticator -> {
      writer = new GroupCommitWriter(store, config.syncMode(), config.groupCommit(), config.writeQueueBatches(),
          metrics.registry());
      readers = vertx.createSharedWorkerExecutor("dstream-store-readers", STORE_READER_THREADS);
      StreamEnvironment env = new StreamEnvironment(store, writer, readers, config, Clock.systemUTC(), metrics);
      return StreamRegistry.start(vertx, env).compose(started -> {
        registry = started;
        HttpApi api = new HttpApi(authenticator, new ClientAddresses(config.trustedProxies()),
            new V1Endpoint(registry, config, metrics), metrics);
        HttpServerOptions options = new HttpServerOptions()
            .setHost(config.host())
            .setPort(config.port())
            // The message limit is the enforced one: exceeding it reaches the socket's exception handler,
            // which closes with 1009. The frame limit is a backstop at twice that: a frame over it
            // makes Netty drop the connection without a close frame.
            .setMaxWebSocketFrameSize(frameBackstop(config.maxFrameBytes()))
            .setMaxWebSocketMessageSize(config.maxFrameBytes())
            .setPerMessageWebSocketCompressionSupported(config.webSocketCompression())
            .setPerFrameWebSocketCompressionSupported(config.webSocketCompression());
        return vertx.createHttpServer(options).requestHandler(api.router(vertx)).listen().compose(listening -> {
          server = listening;
          return spreadListeners(options, api);
        });
      });
    }).map(ignored -> {
      LOG.info("listening on http://{}:{}", config.host(), server.actualPort());
      return this;
    });
  }

  /**
   * Listeners on the other event loops, sharing the bound port: connections spread over all cores.
   * Vert.x shares a port only among servers that asked for the same fixed port, so with port 0
   * (tests) the first server listens alone.
   */
  private Future<Void> spreadListeners(HttpServerOptions options, HttpApi api) {
    int more = VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE - 1;
    if (more <= 0 || config.port() == 0) {
      return Future.succeededFuture();
    }
    return vertx.deployVerticle(() -> new HttpListener(options, api), new DeploymentOptions().setInstances(more))
        .onSuccess(id -> listeners = id).mapEmpty();
  }

  private static int frameBackstop(int maxFrameBytes) {
    return (int) Math.min(Integer.MAX_VALUE, 2L * maxFrameBytes);
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return server.actualPort();
  }

  public BrokerMetrics metrics() {
    return metrics;
  }

  /** Stops listening, stops the actors, commits what the writer holds and closes the store. */
  public Future<Void> stop() {
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return closed
        .transform(ignored -> listeners == null ? Future.<Void>succeededFuture() : vertx.undeploy(listeners))
        .transform(ignored -> registry == null ? Future.<Void>succeededFuture() : registry.stop(vertx))
        .transform(ignored -> vertx.<Void>executeBlocking(() -> {
          if (writer != null) {
            writer.close();
          }
          if (store != null) {
            store.close();
          }
          return null;
        }))
        .transform(ignored -> {
          if (readers != null) {
            return readers.close();
          }
          return Future.<Void>succeededFuture();
        });
  }
}
