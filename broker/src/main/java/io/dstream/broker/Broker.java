package io.dstream.broker;

import io.dstream.broker.admin.AdminApi;
import io.dstream.broker.admin.Overview;
import io.dstream.broker.archive.Archive;
import io.dstream.broker.archive.TermCheck;
import io.dstream.broker.archive.MinioObjectStore;
import io.dstream.broker.auth.ApiKeyAuthenticator;
import io.dstream.broker.auth.Authenticator;
import io.dstream.broker.auth.JwtAuthenticator;
import io.dstream.broker.cluster.ClusterNode;
import io.dstream.broker.cluster.ClusterRouting;
import io.dstream.broker.cluster.LeaderCalls;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.durablestreams.DurableStreamsApi;
import io.dstream.broker.files.FileShares;
import io.dstream.broker.files.FilesApi;
import io.dstream.broker.health.Readiness;
import io.dstream.broker.http.ClientAddresses;
import io.dstream.broker.http.ConnectionGate;
import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.router.HttpApi;
import io.dstream.broker.router.HttpListener;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.nats.NatsServer;
import io.dstream.broker.records.RecordsHandler;
import io.dstream.broker.relay.LeaderRelay;
import io.dstream.broker.retention.Retention;
import io.dstream.broker.retention.RetentionSweeper;
import io.dstream.broker.s3.S3Connection;
import io.dstream.broker.store.GroupCommitWriter;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.store.MvMessageStore;
import io.dstream.broker.store.SyncPolicy;
import io.dstream.broker.stream.Ownership;
import io.dstream.broker.stream.StreamEnvironment;
import io.dstream.broker.stream.StreamRegistry;
import io.dstream.broker.ws.V1Endpoint;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.time.Clock;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A running broker: store, writer, S3 connection (and the embedded S3 server), actor shards and
 * the HTTP/WebSocket listener, started in that order by {@link #start} and stopped in reverse by
 * {@link #stop}. A step that fails undoes the
 * steps before it, so a failed start leaves nothing open.
 */
public final class Broker {

  private static final Logger LOG = LoggerFactory.getLogger(Broker.class);
  private static final int STORE_READER_THREADS = 4;
  /** How often a stopping broker looks again whether the bucket holds every subject's last changes. */
  private static final long LAST_CHECKPOINTS_PASS_MS = 100;
  /** Most payload bytes one Durable Streams read answers; the client continues from the returned offset. */
  private static final long DURABLE_READ_MAX_BYTES = 4L * 1024 * 1024;

  private final Vertx vertx;
  private final BrokerConfig config;
  private final BrokerMetrics metrics = new BrokerMetrics();
  private final MemoryBudget memoryBudget;
  private MessageStore store;
  /** The store's writer on a single node; in cluster mode the {@link ClusterNode} writes instead. */
  private GroupCommitWriter groupCommit;
  private ClusterNode cluster;
  private WorkerExecutor readers;
  private S3Connection s3;
  private Archive archive;
  private StreamRegistry registry;
  private LeaderCalls calls;
  private HttpServer server;
  private String listeners;
  private FileShares shares;
  private Overview overview;
  private NatsServer nats;
  private final Retention retention;
  private RetentionSweeper sweeper;
  private final ClusterRouting routing;
  private final Duration forwardTimeout;
  private LeaderRelay relay;

  private Broker(Vertx vertx, BrokerConfig config, ClusterRouting routing, Duration forwardTimeout) {
    this.vertx = vertx;
    this.config = config;
    this.routing = routing;
    this.forwardTimeout = forwardTimeout;
    this.memoryBudget = new MemoryBudget(config.memoryBudgetBytes());
    this.retention = new Retention(config.retention().defaults(), config.retention().maxRules());
    metrics.watch(memoryBudget);
  }

  /** Starts a broker; the future fails (with everything closed again) if any step fails. */
  public static Future<Broker> start(Vertx vertx, BrokerConfig config) {
    return start(vertx, config, null, null);
  }

  /**
   * Starts a broker whose subject requests (records, Durable Streams, v1 WebSockets) go where
   * {@code routing} says: relayed to another node within {@code forwardTimeout}, or served here. A
   * null routing is a single node, as {@link #start(Vertx, BrokerConfig)}.
   */
  public static Future<Broker> start(Vertx vertx, BrokerConfig config, ClusterRouting routing, Duration forwardTimeout) {
    Broker broker = new Broker(vertx, config, routing, forwardTimeout);
    return broker.startSteps().recover(failure -> broker.stop().transform(ignored -> Future.failedFuture(failure)));
  }

  /** One policy for the writer, which forces by it, and the store, which reuses space by it. */
  private SyncPolicy syncPolicy() {
    return new SyncPolicy(config.syncMode(), config.osSyncInterval());
  }

  private Future<Broker> startSteps() {
    return vertx.executeBlocking(() -> {
      Files.createDirectories(config.dataDir());
      ApiKeyAuthenticator authenticator = ApiKeyAuthenticator.load(config.dataDir(), config.apiKey());
      store = MvMessageStore.open(config.dataDir(), config.storeCacheMb(), syncPolicy());
      shares = FileShares.load(config.dataDir(), config.maxFileShare(), Clock.systemUTC());
      metrics.measureStore(store::size);
      if (config.cluster() != null) {
        cluster = ClusterNode.start(vertx, config, store);
        cluster.leadership().measure(metrics.registry());
      }
      return authenticator;
    }).compose(authenticator -> {
      if (cluster == null) {
        groupCommit = new GroupCommitWriter(store, config.groupCommit(), syncPolicy(), config.writeQueueBatches(),
            metrics.registry());
      }
      readers = vertx.createSharedWorkerExecutor("dstream-store-readers", STORE_READER_THREADS);
      return S3Connection.start(vertx, config.s3(), config.dataDir(), metrics.registry()).map(connection -> {
        s3 = connection;
        archive = new Archive(s3, new MinioObjectStore(s3.client(), s3.bucket()), config.archivePolicy(),
            config.compaction(), metrics.registry(), cluster != null ? cluster.termCheck() : TermCheck.SINGLE_NODE);
        // Asked before any subject loads, so that the answer predates this broker's own checkpoints.
        archive.heldCheckpointsAtStart();
        return authenticator;
      });
    }).compose(apiKeys -> {
      ConnectionGate gate = new ConnectionGate(config.connectionLimits(), metrics);
      nats = new NatsServer(config, metrics, memoryBudget, gate, retention, version());
      StreamEnvironment env = new StreamEnvironment(store, cluster != null ? cluster.writer() : groupCommit, readers,
          config, config.clock(), metrics, archive, nats.tap(), retention,
          cluster != null ? cluster.leadership() : Ownership.SINGLE_NODE);
      return StreamRegistry.start(vertx, env).compose(started -> {
        registry = started;
        calls = new LeaderCalls(vertx, registry, cluster == null ? null : cluster.leadership(),
            cluster == null ? Duration.ZERO : config.cluster().forwardTimeout(), metrics);
        retention.serve(registry, calls);
        calls.start();
        if (cluster != null) {
          nats.joinCluster(vertx, cluster.leadership(), config.cluster().forwardTimeout());
          // From the leader of the rules' subject, waiting for it at most the forward timeout
          // (docs/consumers-and-retention.md).
          return retention.follow(vertx, config.retention().refreshInterval());
        }
        // The rules are in force before anything is served: no publish gets past a limit stored earlier.
        // Looked for locally, else (a lost disk) in the bucket, if it holds any checkpoint.
        return vertx.executeBlocking(() -> store.find(Retention.SUBJECT) != null)
            .compose(local -> local ? Future.succeededFuture(true) : archive.heldCheckpointsAtStart().otherwise(false))
            .compose(retention::load);
      }).compose(loaded -> {
        sweeper = new RetentionSweeper(vertx, store, readers, registry, retention, config.retention(), config.clock(),
            cluster != null ? cluster.leadership() : Ownership.SINGLE_NODE);
        sweeper.start();
        Authenticator authenticator = new Authenticator(apiKeys, config.jwt().enabled()
            ? JwtAuthenticator.create(vertx, config.jwt()) : null, config.anonymousAccess());
        return nats.start(vertx, registry, calls, authenticator, this::destroyCheckpoints, store, archive)
            .map(authenticator);
      }).compose(authenticator -> {
        overview = new Overview(metrics.registry(), Clock.systemUTC(), version());
        overview.start(vertx);
        DurableStreamsApi durableStreams = new DurableStreamsApi(vertx, registry, Clock.systemUTC(), metrics,
            config.longPollTimeout().toMillis(), config.maxLongPollWaiters(), DURABLE_READ_MAX_BYTES);
        // Cluster mode routes by the Raft leaders; a test may hand its own routing to a single node.
        ClusterRouting leaders = cluster != null ? cluster.leadership() : routing;
        Duration relayTimeout = cluster != null ? config.cluster().forwardTimeout() : forwardTimeout;
        relay = leaders == null ? null : new LeaderRelay(vertx, leaders, relayTimeout, config.longPollTimeout(),
            frameBackstop(config.maxFrameBytes()), gate, metrics);
        HttpApi api = new HttpApi(authenticator, nats,
            new ClientAddresses(config.trustedProxies()), new V1Endpoint(registry, config, metrics, gate, memoryBudget),
            new RecordsHandler(registry, config, metrics, this::destroyCheckpoints), metrics, durableStreams,
            config, new FilesApi(s3, config.s3().partSizeBytes(), config.s3().maxListLimit(),
            config.uploadLimits(), memoryBudget, metrics, shares),
            new AdminApi(store, readers, registry, overview, nats.consumerOperations(), retention,
                config.maxFrameBytes(), cluster == null ? null : cluster.leadership()), memoryBudget,
            new Readiness(store, readers, s3, archive, config.dataDir(), Main.VERSION), relay);
        Router router = api.router(vertx);
        HttpServerOptions options = new HttpServerOptions()
            .setHost(config.host())
            .setPort(config.port())
            // The message limit is enforced by the session's assembler, which closes with 1009. The frame
            // limit is a backstop at twice that: a frame over it makes Netty drop the connection
            // without a close frame.
            .setMaxWebSocketFrameSize(frameBackstop(config.maxFrameBytes()))
            .setPerMessageWebSocketCompressionSupported(config.webSocketCompression())
            .setPerFrameWebSocketCompressionSupported(config.webSocketCompression())
            // Sniffing for a cleartext HTTP/2 preface delays the connection handler until a whole request
            // head has arrived, which would blind the request-head deadline against slowloris.
            .setHttp2ClearTextEnabled(false)
            .setIdleTimeout((int) config.connectionLimits().idleTimeout().toMillis())
            .setIdleTimeoutUnit(TimeUnit.MILLISECONDS);
        if (config.tls() != null) {
          options.setSsl(true).setKeyCertOptions(new PemKeyCertOptions()
              .setCertPath(config.tls().certificate().toString())
              .setKeyPath(config.tls().privateKey().toString()));
        }
        return HttpListener.listen(vertx, options, gate, router).compose(listening -> {
          server = listening;
          return spreadListeners(options, gate, api);
        });
      });
    }).map(ignored -> {
      String scheme = config.tls() != null ? "https" : "http";
      LOG.info("listening on {}://{}:{}", scheme, config.host(), server.actualPort());
      if (cluster != null) {
        cluster.ready(scheme + "://" + config.host() + ":" + server.actualPort());
      }
      return this;
    });
  }

  /**
   * Listeners on the other event loops, sharing the bound port: connections spread over all cores.
   * Vert.x shares a port only among servers that asked for the same fixed port, so with port 0
   * (tests) the first server listens alone.
   */
  private Future<Void> spreadListeners(HttpServerOptions options, ConnectionGate gate, HttpApi api) {
    int more = VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE - 1;
    if (more <= 0 || config.port() == 0) {
      return Future.succeededFuture();
    }
    return vertx.deployVerticle(() -> new HttpListener(options, gate, api), new DeploymentOptions().setInstances(more))
        .onSuccess(id -> listeners = id).mapEmpty();
  }

  /**
   * A destroyed subject's checkpoints go before the destroy is answered. If the bucket cannot be
   * reached the destroy still succeeds: the subject's actor keeps retrying the deletion.
   */
  private Future<Void> destroyCheckpoints(String subject) {
    return archive.destroy(subject).recover(failure -> {
      LOG.warn("checkpoints of destroyed subject '{}' not deleted yet ({}); retrying in the background", subject,
          failure.toString());
      return Future.succeededFuture();
    });
  }

  private static int frameBackstop(int maxFrameBytes) {
    return (int) Math.min(Integer.MAX_VALUE, 2L * maxFrameBytes);
  }

  /** This build's version (the Maven project version), or {@code unknown} outside a build. */
  public static String version() {
    Properties properties = new Properties();
    try (InputStream in = Broker.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        properties.load(in);
      }
    } catch (IOException e) {
      LOG.warn("cannot read the version: {}", e.toString());
    }
    return properties.getProperty("version", "unknown");
  }

  /** The port actually bound (useful with port 0). */
  public int port() {
    return server.actualPort();
  }

  /** The bound TCP port of the NATS protocol (0 when it is off). */
  public int natsPort() {
    return nats == null ? 0 : nats.port();
  }

  public BrokerMetrics metrics() {
    return metrics;
  }

  /** The checkpoint tier; {@link Archive#destroy} removes a subject's checkpoints. */
  public Archive archive() {
    return archive;
  }

  /** The connection to object storage (its embedded server, if any). */
  public S3Connection s3() {
    return s3;
  }

  /**
   * Once no client can write any more: checkpoints every subject whose last changes the bucket does
   * not hold, for at most {@link BrokerConfig#checkpointOnStop()}, so that a disk lost after a clean
   * stop loses nothing the broker acknowledged. The shards tick again every
   * {@link #LAST_CHECKPOINTS_PASS_MS} ms until no subject is behind; an unreachable bucket costs the whole bound.
   */
  private Future<Void> lastCheckpoints() {
    if (archive == null || registry == null || config.checkpointOnStop().isZero()) {
      return Future.succeededFuture();
    }
    archive.stopping();
    Promise<Void> done = Promise.promise();
    long startNanos = System.nanoTime();
    lastCheckpointsPass(startNanos, startNanos + config.checkpointOnStop().toNanos(), done);
    return done.future();
  }

  private void lastCheckpointsPass(long startNanos, long deadlineNanos, Promise<Void> done) {
    registry.tickNow().onComplete(ticked -> {
      int behind = archive.checkpointHealth().subjectsBehind();
      long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - startNanos);
      if (behind == 0) {
        LOG.info("last checkpoints written: the bucket holds every subject's changes ({} ms)", tookMs);
        done.complete();
      } else if (System.nanoTime() - deadlineNanos >= 0) {
        LOG.warn("stopping with {} subjects whose last changes are not in the bucket after {} ms "
            + "(DSTREAM_CHECKPOINT_ON_STOP_MS); they stay in the local store", behind, tookMs);
        done.complete();
      } else {
        vertx.setTimer(LAST_CHECKPOINTS_PASS_MS, id -> lastCheckpointsPass(startNanos, deadlineNanos, done));
      }
    });
  }

  /** Stops listening, stops the actors, commits what the writer holds and closes the store. */
  public Future<Void> stop() {
    if (overview != null) {
      overview.stop(vertx);
    }
    Future<Void> closed = server == null ? Future.succeededFuture() : server.close();
    return closed
        .transform(ignored -> listeners == null ? Future.<Void>succeededFuture() : vertx.undeploy(listeners))
        .transform(ignored -> relay == null ? Future.<Void>succeededFuture() : relay.close())
        .transform(ignored -> nats == null ? Future.<Void>succeededFuture() : nats.stop(vertx))
        .transform(ignored -> {
          retention.stop();
          return sweeper == null ? Future.<Void>succeededFuture() : sweeper.stop();
        })
        .transform(ignored -> lastCheckpoints())
        .transform(ignored -> registry == null ? Future.<Void>succeededFuture() : registry.stop(vertx))
        .transform(ignored -> vertx.<Void>executeBlocking(() -> {
          if (groupCommit != null) {
            groupCommit.close();
          }
          if (cluster != null) {
            cluster.close();
          }
          if (store != null) {
            store.close();
          }
          return null;
        }))
        .transform(ignored -> {
          metrics.close();
          if (readers != null) {
            return readers.close();
          }
          return Future.<Void>succeededFuture();
        })
        .transform(ignored -> s3 == null ? Future.<Void>succeededFuture() : s3.close());
  }
}
