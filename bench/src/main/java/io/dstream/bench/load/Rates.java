package io.dstream.bench.load;

import org.HdrHistogram.Histogram;

import java.util.List;
import java.util.concurrent.TimeUnit;

/** Small arithmetic shared by the targets. */
final class Rates {

  private Rates() {
  }

  static double perSecond(long messages, long nanos) {
    return nanos <= 0 ? 0 : messages * 1e9 / nanos;
  }

  /** Nanosecond latencies from 1 µs to 10 min, three significant digits. */
  static Histogram histogram() {
    return new Histogram(TimeUnit.MICROSECONDS.toNanos(1), TimeUnit.MINUTES.toNanos(10), 3);
  }

  static double micros(Histogram histogram, double percentile) {
    return histogram.getValueAtPercentile(percentile) / 1000.0;
  }

  static double p99Micros(List<Histogram> histograms) {
    Histogram merged = histogram();
    histograms.forEach(merged::add);
    return micros(merged, 99.0);
  }
}
