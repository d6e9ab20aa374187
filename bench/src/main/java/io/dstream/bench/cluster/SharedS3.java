package io.dstream.bench.cluster;

import io.dstream.broker.s3.EmbeddedS3;

import java.nio.file.Path;

/**
 * The one S3-compatible server the three nodes of bench/run.sh's cluster share (every node of a
 * cluster uses the same bucket): the broker's own {@link EmbeddedS3}, S3Proxy on the filesystem, the
 * server a single broker runs inside its process when no endpoint is configured, here started alone
 * on a port and with keys of the caller's choosing, in a process of its own, so that no node owns it.
 * A node's embedded server cannot serve the others: it takes a free port it only logs, and stops with
 * its node.
 *
 * <p>The broker jar holds {@link EmbeddedS3} and S3Proxy, so the class path puts it first:
 * {@code java -cp broker/target/broker.jar:bench/target/bench.jar io.dstream.bench.cluster.SharedS3
 * DIR PORT ACCESS_KEY SECRET_KEY}. Prints {@code listening on http://127.0.0.1:PORT} once it serves,
 * then runs (on S3Proxy's non-daemon threads) until the process is stopped.
 */
public final class SharedS3 {

  private SharedS3() {
  }

  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: SharedS3 DIR PORT ACCESS_KEY SECRET_KEY");
      System.exit(2);
    }
    EmbeddedS3 server = EmbeddedS3.start(Path.of(args[0]), "127.0.0.1", Integer.parseInt(args[1]), args[2], args[3]);
    System.out.println("listening on " + server.endpoint());
  }
}
