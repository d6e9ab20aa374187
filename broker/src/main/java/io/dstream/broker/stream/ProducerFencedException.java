package io.dstream.broker.stream;

/**
 * A write carried a producer version lower than the subject's: a newer producer has taken over,
 * and this one is fenced off. Nothing of the write was stored.
 */
public final class ProducerFencedException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final long currentVersion;
  private final long providedVersion;

  public ProducerFencedException(long currentVersion, long providedVersion) {
    super("producer version " + providedVersion + " is older than the current version " + currentVersion,
        null, false, false);
    this.currentVersion = currentVersion;
    this.providedVersion = providedVersion;
  }

  public long currentVersion() {
    return currentVersion;
  }

  public long providedVersion() {
    return providedVersion;
  }
}
