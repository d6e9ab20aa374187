package io.dstream.broker.metrics;

import io.dstream.broker.limits.MemoryBudget;
import io.dstream.broker.store.StoreSize;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The broker's meters, registered once in a Prometheus registry and scraped by {@code GET /metrics}.
 * Thread-safe.
 */
public final class BrokerMetrics {

  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final AtomicLong activeActors = new AtomicLong();
  private final AtomicLong webSockets = new AtomicLong();
  private final AtomicLong longPollWaiters = new AtomicLong();
  private final AtomicLong natsConnections = new AtomicLong();
  private final AtomicLong inFlight = new AtomicLong();
  private final JvmGcMetrics gcMetrics = new JvmGcMetrics();
  private volatile Supplier<StoreSize> storeSize;
  public final Counter actorsCreated = counter("dstream_actors_created", "Stream actors created or rehydrated");
  public final Counter actorsHibernated = counter("dstream_actors_hibernated", "Stream actors released from memory after idling");
  public final Counter published = counter("dstream_messages_published", "Messages acknowledged to publishers");
  public final Counter publishDuplicates = counter("dstream_publish_duplicates",
      "Repeated publishes answered with the original sequence from the dedup window");
  public final Counter publishFailed = counter("dstream_publish_failed", "Publishes refused or failed in storage");
  public final Counter delivered = counter("dstream_deliveries", "Pushes to subscribers, first deliveries and redeliveries");
  public final Counter redelivered = counter("dstream_redeliveries", "Pushes sent again after the ack timeout");
  public final Counter droppedAfterMaxDeliver = counter("dstream_dropped_after_max_deliver",
      "Messages skipped for a subscriber after maxDeliver unacked deliveries");
  public final Counter unknownAcks = counter("dstream_unknown_acks", "Acks naming no pending delivery");
  public final Counter badFrames = counter("dstream_bad_frames", "WebSocket frames answered with an error");
  public final Counter forbidden = counter("dstream_forbidden", "Requests refused because the credential does not allow them");
  public final Counter unauthenticated = counter("dstream_unauthenticated",
      "HTTP requests and WebSocket upgrades refused (401) at the credential check: none, or a key or token that is not valid");
  public final Counter rateLimited = counter("dstream_rate_limited", "WebSocket requests refused over the per-socket rate limit");
  public final Counter slowConsumersClosed = counter("dstream_slow_consumers_closed",
      "WebSockets closed because they held more than their memory budget for the grace period");
  public final Counter overloaded = counter("dstream_overloaded",
      "Requests refused because the broker-wide memory budget was exhausted");
  public final Counter uploadsRefused = counter("dstream_uploads_refused",
      "File uploads refused over the broker-wide or per-client upload limit");
  public final Counter slowUploadsCut = counter("dstream_slow_uploads_cut",
      "File uploads cut for delivering less than the minimum rate");
  public final Counter slowRequestsClosed = counter("dstream_slow_requests_closed",
      "Connections closed for not sending a complete request head in time");
  public final Counter connectionsRefused = counter("dstream_connections_refused", "Connections refused over maxConnections");
  public final Counter fencedWrites = counter("dstream_fenced_writes",
      "Records API writes refused because their producer version was older than the subject's");
  public final Counter stateConflicts = counter("dstream_state_conflicts",
      "State writes refused because they expected another revision than the state's");

  public final Counter natsPublishes = counter("dstream_nats_publishes", "PUB and HPUB operations read from NATS clients");
  public final Counter natsRefused = counter("dstream_nats_refused",
      "NATS operations answered -ERR: protocol and permission violations, refused authentication");
  public final Counter natsSlowConsumers = counter("dstream_nats_slow_consumers",
      "NATS connections closed because their unsent bytes passed the pending limit");

  public final Timer publishLatency = Timer.builder("dstream_publish_ack_latency")
      .description("Time from a publish frame's arrival to its acknowledgement (after the durable commit)")
      .publishPercentileHistogram().register(registry);

  public BrokerMetrics() {
    Gauge.builder("dstream_in_flight", inFlight, AtomicLong::get)
        .description("Pushes awaiting an ack, over all subscribers (refreshed every shard tick)").register(registry);
    new JvmMemoryMetrics().bindTo(registry);
    gcMetrics.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    Gauge.builder("dstream_actors_active", activeActors, AtomicLong::get)
        .description("Stream actors in memory").register(registry);
    Gauge.builder("dstream_websockets", webSockets, AtomicLong::get)
        .description("Open protocol v1 WebSockets").register(registry);
    Gauge.builder("dstream_nats_connections", natsConnections, AtomicLong::get)
        .description("Open NATS client connections, TCP and WebSocket").register(registry);
    Gauge.builder("dstream_long_poll_waiters", longPollWaiters, AtomicLong::get)
        .description("Records API reads with a timeout in progress").register(registry);
  }

  /** Shows what clients make the broker hold against the broker-wide budget. */
  public void watch(MemoryBudget budget) {
    Gauge.builder("dstream_memory_budget_held_bytes", budget, MemoryBudget::heldBytes)
        .description("Bytes clients make the broker hold: unsent replies and pushes, unanswered requests, uploads")
        .register(registry);
    Gauge.builder("dstream_memory_budget_limit_bytes", budget, MemoryBudget::limitBytes)
        .description("The broker-wide memory budget (DSTREAM_MEMORY_BUDGET_BYTES)").register(registry);
  }

  /**
   * Exports the store's size as gauges, read at each scrape (cheap: no scan, see
   * {@link io.dstream.broker.store.MessageStore#size()}). The supplier is kept here because a gauge
   * holds its source only weakly.
   */
  public void measureStore(Supplier<StoreSize> size) {
    storeSize = size;
    Gauge.builder("dstream_store_subjects", this, m -> m.storeSize.get().subjects())
        .description("Subjects with a record in the local store").register(registry);
    Gauge.builder("dstream_store_messages", this, m -> m.storeSize.get().messages())
        .description("Messages held in the local store (not those only in the bucket)").register(registry);
    Gauge.builder("dstream_store_file_bytes", this, m -> m.storeSize.get().fileBytes())
        .description("Size of the local store file").baseUnit("bytes").register(registry);
  }

  /**
   * Cluster mode: requests this node sent to the node leading their subject, by {@code kind}
   * ({@code publish}, {@code call}, {@code http}, {@code websocket}); each attempt counts.
   */
  public Counter clusterForwarded(String kind) {
    return Counter.builder("dstream_cluster_forwarded").tag("kind", kind)
        .description("Requests sent to the node leading their subject (cluster mode), each attempt").register(registry);
  }

  /** Cluster mode: forwarded requests that failed in the end (no leader in time, node gone, timeout), by {@code kind}. */
  public Counter clusterForwardFailed(String kind) {
    return Counter.builder("dstream_cluster_forward_failures").tag("kind", kind)
        .description("Forwarded requests that failed after their retries (cluster mode)").register(registry);
  }

  private Counter counter(String name, String description) {
    return Counter.builder(name).description(description).register(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  public AtomicLong activeActors() {
    return activeActors;
  }

  public AtomicLong inFlight() {
    return inFlight;
  }

  public AtomicLong webSockets() {
    return webSockets;
  }

  public AtomicLong natsConnections() {
    return natsConnections;
  }

  /** Records API reads with a timeout in progress (bounded by the long-poll waiter limit). */
  public AtomicLong longPollWaiters() {
    return longPollWaiters;
  }

  /** Unregisters the GC notification listeners. */
  public void close() {
    gcMetrics.close();
  }

  /** Prometheus text exposition of every meter. */
  public String scrape() {
    return registry.scrape();
  }
}
