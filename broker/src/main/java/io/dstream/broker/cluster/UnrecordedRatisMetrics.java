package io.dstream.broker.cluster;

import org.apache.ratis.metrics.LongCounter;
import org.apache.ratis.metrics.MetricRegistries;
import org.apache.ratis.metrics.MetricRegistryInfo;
import org.apache.ratis.metrics.RatisMetricRegistry;
import org.apache.ratis.metrics.Timekeeper;
import org.apache.ratis.util.TimeDuration;

import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Ratis's metrics, not recorded. Ratis times every log write, append and request into Dropwizard
 * timers ({@code ratis-metrics-default}), whose reservoir updates were 2-7 % of each node's samples in
 * scenario 1, and the broker never reported them (Ratis only reports to JMX or the console when
 * asked). Ratis finds its {@link MetricRegistries} with the {@link java.util.ServiceLoader}
 * ({@code META-INF/services}); this is the only one on the class path. The cluster's health is in
 * the broker's own metrics and {@code GET /admin/cluster} instead.
 */
public final class UnrecordedRatisMetrics extends MetricRegistries {

  private static final Timekeeper.Context STOPPED = () -> 0L;
  private static final Timekeeper TIMER = () -> STOPPED;
  private static final LongCounter COUNTER = new LongCounter() {
    @Override
    public void inc(long n) {
    }

    @Override
    public void dec(long n) {
    }

    @Override
    public long getCount() {
      return 0;
    }
  };

  /** One registry per info, as Ratis expects of {@link #create}, holding nothing. */
  private record Unrecorded(MetricRegistryInfo info) implements RatisMetricRegistry {
    @Override
    public Timekeeper timer(String name) {
      return TIMER;
    }

    @Override
    public LongCounter counter(String name) {
      return COUNTER;
    }

    @Override
    public boolean remove(String name) {
      return false;
    }

    @Override
    public <T> void gauge(String name, Supplier<Supplier<T>> gaugeSupplier) {
      // Not read: the supplier is not kept, so nothing of the server's stays reachable through it.
    }

    @Override
    public MetricRegistryInfo getMetricRegistryInfo() {
      return info;
    }
  }

  @Override
  public void clear() {
  }

  @Override
  public RatisMetricRegistry create(MetricRegistryInfo info) {
    return new Unrecorded(info);
  }

  @Override
  public boolean remove(MetricRegistryInfo key) {
    return false;
  }

  @Override
  public Optional<RatisMetricRegistry> get(MetricRegistryInfo info) {
    return Optional.empty();
  }

  @Override
  public Set<MetricRegistryInfo> getMetricRegistryInfos() {
    return Set.of();
  }

  @Override
  public Collection<RatisMetricRegistry> getMetricRegistries() {
    return List.of();
  }

  @Override
  public void addReporterRegistration(Consumer<RatisMetricRegistry> reporterRegistration,
                                      Consumer<RatisMetricRegistry> stopReporter) {
  }

  @Override
  public void enableJmxReporter() {
  }

  @Override
  public void enableConsoleReporter(TimeDuration consoleReportRate) {
  }
}
