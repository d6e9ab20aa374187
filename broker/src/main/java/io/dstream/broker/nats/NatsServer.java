package io.dstream.broker.nats;

import io.dstream.broker.archive.Archive;
import io.dstream.broker.auth.Authenticator;
import io.dstream.broker.cluster.LeaderCalls;
import io.dstream.broker.cluster.Leadership;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.config.NatsSettings;
import io.dstream.broker.http.ConnectionGate;
import io.dstream.broker.http.FlushConsolidation;
import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.retention.Retention;
import io.dstream.broker.store.MessageStore;
import io.dstream.broker.stream.DurableTap;
import io.dstream.broker.stream.Published;
import io.dstream.broker.stream.StreamRegistry;
import io.dstream.broker.stream.SubjectDestroyedHook;
import io.dstream.pattern.TokenPattern;
import io.netty.channel.Channel;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.impl.HttpServerConnection;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import javax.net.ssl.SSLException;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The NATS client protocol: what its connections share (the subscriptions, delivery, the JetStream
 * API, auth and limits) and its listeners, TCP on {@link NatsSettings#port()} (one server per event
 * loop on the shared port, as the HTTP listeners) and WebSocket on {@code /nats} through
 * {@link #upgrade}.
 *
 * <p>The subscription index exists before the stream actors do ({@link #tap()} goes into their
 * environment); the rest starts with {@link #start}, once the actors are there.
 */
public final class NatsServer {

  private static final Logger LOG = LoggerFactory.getLogger(NatsServer.class);
  /** The protocol level we speak, as clients read it from {@code INFO} to decide which features to use. */
  static final String PROTOCOL_VERSION = "2.10.0";

  final BrokerConfig config;
  final NatsSettings settings;
  final BrokerMetrics metrics;
  final MemoryBudget budget;
  /** Retention rules: a JetStream stream's limits are the rule of its subject. */
  final Retention retention;
  final SubjectIndex index = new SubjectIndex();
  final CoreDelivery delivery = new CoreDelivery(index);
  final String serverId = UUID.randomUUID().toString().replace("-", "").toUpperCase(Locale.ROOT);
  final String brokerVersion;
  private final List<TokenPattern> ephemeral;
  private final AtomicLong clientIds = new AtomicLong();
  /** {@code DSTREAM_MAX_CONNECTIONS} counts NATS connections too. */
  private final ConnectionGate gate;
  /** The broker's certificate for TLS on the TCP port, or null without TLS. */
  private final SslContext tls;
  Authenticator authenticator;
  StreamRegistry registry;
  /** The broker's state subjects (stream declarations, consumers' positions) on whichever node leads them. */
  LeaderCalls calls;
  /** Cluster mode's forwarding of publishes to their leader (docs/cluster.md); null on a single node. */
  ClusterPublishes cluster;
  /** Cluster mode's core messages to the other nodes' subscriptions; null on a single node. */
  ClusterInterest interest;
  /** What a stream's info says of its copies: one here, its partition's replicas in cluster mode. */
  StreamReplicas replicas = new StreamReplicas(null);
  MessageStore store;
  /** Set once by {@link #start}; read by the tap, which the actors use from before then. */
  volatile JetStreamApi jetStream;
  final StateApi state = new StateApi(this);
  private final DurableTap tap = new Tap();
  private final ConsumerOperations consumerOperations = new ConsumerOperations(this);
  private String deployment;
  private volatile int tcpPort;

  public NatsServer(BrokerConfig config, BrokerMetrics metrics, MemoryBudget budget, ConnectionGate gate,
                    Retention retention, String brokerVersion) {
    this.config = config;
    this.retention = retention;
    this.gate = gate;
    this.settings = config.nats();
    this.metrics = metrics;
    this.budget = budget;
    this.brokerVersion = brokerVersion;
    this.ephemeral = settings.ephemeral().stream().map(TokenPattern::subjects).toList();
    this.tls = config.tls() == null ? null : serverTls(config);
  }

  /**
   * Where durable messages reach core subscriptions and wildcard consumers (which learn of new
   * subjects from it): the stream actors' {@link DurableTap}.
   */
  public DurableTap tap() {
    return tap;
  }

  /** The one tap of the actors: core delivery, then wildcard consumers following new or idle subjects. */
  private final class Tap implements DurableTap {
    @Override
    public boolean listening(String subject) {
      JetStreamApi api = jetStream;
      return delivery.listening(subject) || api != null && api.consumers().follows(subject)
          || interest != null && interest.listening(subject);
    }

    @Override
    public void durable(String subject, List<Published> messages) {
      delivery.durable(subject, messages);
      if (interest != null) {
        interest.relay(subject, messages);
      }
      JetStreamApi api = jetStream;
      if (api != null && !messages.isEmpty()) {
        api.consumers().tapped(subject, messages.get(0).sequence());
      }
    }

    @Override
    public void stateChanged(String subject, byte[] stateJson, long revision) {
      delivery.stateChanged(subject, stateJson, revision);
      if (interest != null) {
        interest.relayState(subject, stateJson, revision);
      }
    }
  }

  /**
   * Starts the JetStream API and, unless the port is 0, the TCP listeners. Stream declarations and
   * durable consumers come back at once if the store holds them, or if the bucket held checkpoints
   * when the broker started ({@code archive}: a lost disk restores them from there).
   */
  public Future<Void> start(Vertx vertx, StreamRegistry streams, LeaderCalls leaderCalls, Authenticator auth,
                            SubjectDestroyedHook destroyed, MessageStore store, Archive archive) {
    this.registry = streams;
    this.calls = leaderCalls;
    state.start();
    consumerOperations.start();
    this.authenticator = auth;
    this.store = store;
    this.jetStream = new JetStreamApi(this, destroyed);
    if (cluster != null) {
      // Declarations and consumers' state are read from their subjects' leaders, once elected.
      cluster.start();
      interest.start();
      return jetStream.load(vertx, false).compose(v -> listen(vertx));
    }
    return vertx.executeBlocking(() -> store.find(StreamDeclarations.SUBJECT) != null)
        .compose(local -> local ? Future.succeededFuture(true) : archive.heldCheckpointsAtStart().otherwise(false))
        .compose(present -> jetStream.load(vertx, present).recover(failure -> {
          LOG.warn("stream declarations and consumers could not be loaded yet ({}); the first JetStream request"
              + " tries again", failure.toString());
          return Future.succeededFuture();
        })).compose(loaded -> listen(vertx));
  }

  /**
   * Cluster mode: publishes to subjects another node leads are forwarded there, and core messages
   * (durable or ephemeral) of every node reach this node's core subscriptions. Before {@link #start}.
   */
  public void joinCluster(Vertx vertx, Leadership leadership, java.time.Duration forwardTimeout) {
    this.cluster = new ClusterPublishes(this, vertx, leadership, forwardTimeout);
    this.interest = new ClusterInterest(this, vertx, leadership.nodeId());
    this.replicas = new StreamReplicas(leadership);
    delivery.reachElsewhere(interest);
  }

  /**
   * Delivers a publish to an ephemeral subject to every subscription it matches, here and, in
   * cluster mode, on the other nodes; false when none matches anywhere (as far as the other nodes'
   * announcements tell), which a requester learns as "no responders".
   */
  boolean publishEphemeral(String subject, String reply, byte[] headers, byte[] payload) {
    SubjectIndex.Match match = index.match(subject);
    boolean elsewhere = interest != null && interest.forward(subject, reply, headers, payload, match);
    return delivery.route(match, subject, reply, headers, payload) || elsewhere;
  }

  private Future<Void> listen(Vertx vertx) {
    if (settings.port() == 0) {
      return Future.succeededFuture();
    }
    // Vert.x shares a port among the listeners only when it is a fixed one.
    int instances = settings.port() > 0 ? VertxOptions.DEFAULT_EVENT_LOOP_POOL_SIZE : 1;
    return vertx.deployVerticle(() -> new Listener(this), new DeploymentOptions().setInstances(instances))
        .map(id -> {
          deployment = id;
          LOG.info("nats listening on nats://{}:{}", config.host(), tcpPort);
          return null;
        });
  }

  /** The JetStream consumers for operators (the admin API). */
  public ConsumerOperations consumerOperations() {
    return consumerOperations;
  }

  /** The bound TCP port (0 when off). */
  public int port() {
    return tcpPort;
  }

  /** Stops the TCP listeners; open connections close with them. */
  public Future<Void> stop(Vertx vertx) {
    Future<Void> saved = jetStream == null ? Future.succeededFuture() : jetStream.stop();
    return saved.transform(v -> deployment == null ? Future.succeededFuture() : vertx.undeploy(deployment));
  }

  /** Upgrades {@code request} ({@code GET /nats}) to a NATS connection over WebSocket; it authenticates in {@code CONNECT}. */
  public void upgrade(HttpServerRequest request, String ip) {
    Context context = Vertx.currentContext();
    Runnable release = gate.upgraded(request.connection());
    // The upgraded socket keeps this TCP channel; Vert.x's socket offers no way to it (as for protocol v1).
    Channel channel = ((HttpServerConnection) request.connection()).channelHandlerContext().channel();
    request.toWebSocket().onSuccess(socket -> {
      FlushConsolidation.install(channel);
      new NatsConnection(this, Transport.webSocket(socket, channel, ip), context, nextClientId(), release).start();
    });
  }

  /** The broker's certificate as Netty's TLS context (NATS starts TLS after INFO, see {@link Transport#sendInfo}). */
  private static SslContext serverTls(BrokerConfig config) {
    try {
      return SslContextBuilder.forServer(config.tls().certificate().toFile(), config.tls().privateKey().toFile()).build();
    } catch (SSLException e) {
      throw new IllegalArgumentException("cannot use the TLS certificate and key for the NATS port: " + e.getMessage(), e);
    }
  }

  long nextClientId() {
    return clientIds.incrementAndGet();
  }

  /** Whether {@code subject}'s messages are delivered without being stored. */
  boolean ephemeral(String subject) {
    for (TokenPattern pattern : ephemeral) {
      if (pattern.matches(subject)) {
        return true;
      }
    }
    return false;
  }

  /** One TCP listener on its event loop. */
  private static final class Listener extends VerticleBase {
    private final NatsServer server;
    private NetServer net;

    Listener(NatsServer server) {
      this.server = server;
    }

    @Override
    public Future<?> start() {
      NetServerOptions options = new NetServerOptions().setHost(server.config.host()).setPort(Math.max(0, server.settings.port()))
          .setTcpNoDelay(true);
      net = vertx.createNetServer(options).connectHandler(socket -> {
        if (!server.gate.openOther()) {
          socket.write("-ERR 'maximum connections exceeded'\r\n").onComplete(ar -> socket.close());
          return;
        }
        FlushConsolidation.install(((NetSocketInternal) socket).channelHandlerContext().channel());
        new NatsConnection(server, Transport.tcp(socket, server.tls), context, server.nextClientId(),
            server.gate::closedOther).start();
      });
      return net.listen().onSuccess(bound -> server.tcpPort = bound.actualPort());
    }

    @Override
    public Future<?> stop() {
      return net.close();
    }
  }
}
