package io.dstream.bench.load;

import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import org.HdrHistogram.Histogram;

/**
 * The npm Durable Streams reference server ({@code @durable-streams/server}, file-backed store),
 * scenario 7 only: it speaks the Durable Streams protocol and nothing else of the matrix.
 */
final class DsReferenceTarget implements Target, HttpTarget {

  static final String NAME = "ds-reference";

  private final Vertx vertx = Vertx.vertx(new VertxOptions().setEventLoopPoolSize(2));
  private final HttpLoad http;

  DsReferenceTarget(String hostPort) {
    this.http = new HttpLoad(vertx, NAME, hostPort, null, 64);
  }

  @Override
  public String name() {
    return NAME;
  }

  @Override
  public HttpLoad http() {
    return http;
  }

  @Override
  public boolean hasRecordsApi() {
    return false;
  }

  @Override
  public boolean supports(Scenario scenario) {
    return scenario == Scenario.HTTP;
  }

  @Override
  public double publish(String subject, int count, int window) {
    throw new UnsupportedOperationException(NAME + " runs scenario 7 only");
  }

  @Override
  public Histogram syncPublish(String subject, int count) {
    throw new UnsupportedOperationException(NAME + " runs scenario 7 only");
  }

  @Override
  public double replay(String subject, int count) {
    throw new UnsupportedOperationException(NAME + " runs scenario 7 only");
  }

  @Override
  public FanOutResult fanOut(String subject, int count, int subscribers, int window) {
    throw new UnsupportedOperationException(NAME + " runs scenario 7 only");
  }

  @Override
  public double manySubjects(String prefix, int subjects, int publishers, int count, int window) {
    throw new UnsupportedOperationException(NAME + " runs scenario 7 only");
  }

  @Override
  public void close() {
    OursTarget.close(vertx);
  }
}
