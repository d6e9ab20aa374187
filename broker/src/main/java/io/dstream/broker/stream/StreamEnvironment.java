package io.dstream.broker.stream;

import io.dstream.broker.archive.Archive;
import io.dstream.broker.config.BrokerConfig;
import io.dstream.broker.metrics.BrokerMetrics;
import io.dstream.broker.retention.Retention;
import io.dstream.broker.store.BatchWriter;
import io.dstream.broker.store.MessageStore;
import io.vertx.core.WorkerExecutor;

import java.time.Clock;

/**
 * What every stream actor shares: the store (read from {@code readers}, written only through the
 * {@code writer}), the settings, the clock (injectable for timeout tests), the meters and the
 * archive (checkpoints in the bucket), the tap that live subscribers across subjects listen on,
 * the retention rules every append is checked against, and whether this broker may run a
 * subject's actor ({@link Ownership}: always, but in cluster mode).
 */
public record StreamEnvironment(MessageStore store, BatchWriter writer, WorkerExecutor readers,
                                BrokerConfig config, Clock clock, BrokerMetrics metrics, Archive archive,
                                DurableTap tap, Retention retention, Ownership ownership) {
}
