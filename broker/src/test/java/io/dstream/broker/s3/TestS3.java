package io.dstream.broker.s3;

import io.dstream.broker.config.S3Settings;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * An S3-compatible server outside any broker's data dir (S3Proxy on 127.0.0.1, as the broker
 * embeds it), with MinIO-style credentials, so tests can point brokers at it as at a real MinIO,
 * lose a broker's disk while the bucket survives, and stop and restart it on the same port.
 */
public final class TestS3 implements AutoCloseable {

  public static final String ACCESS_KEY = "minioadmin";
  public static final String SECRET_KEY = "minioadmin";

  private final Path dir;
  private final int port;
  private EmbeddedS3 server;

  private TestS3(Path dir, int port) {
    this.dir = dir;
    this.port = port;
  }

  public static TestS3 start() throws Exception {
    return start(Files.createTempDirectory("dstream-test-s3"));
  }

  /** The same with the bucket's files under {@code dir}. */
  public static TestS3 start(Path dir) throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    TestS3 s3 = new TestS3(dir, port);
    s3.resume();
    return s3;
  }

  /** The settings a broker uses to reach this server. */
  public S3Settings settings() {
    return S3Settings.EMBEDDED.withEndpoint(endpoint(), ACCESS_KEY, SECRET_KEY);
  }

  public String endpoint() {
    return "http://127.0.0.1:" + port;
  }

  /** Stops the server; the bucket's files stay for {@link #resume}. */
  public void pause() throws Exception {
    if (server != null) {
      server.stop();
      server = null;
    }
  }

  /** Starts (again) on the same port and files. */
  public void resume() throws Exception {
    server = EmbeddedS3.start(dir, "127.0.0.1", port, ACCESS_KEY, SECRET_KEY);
  }

  /** A port nothing listens on, for an unreachable endpoint. */
  public static String deadEndpoint() throws IOException {
    try (ServerSocket probe = new ServerSocket(0)) {
      return "http://127.0.0.1:" + probe.getLocalPort();
    }
  }

  @Override
  public void close() {
    try {
      pause();
    } catch (Exception e) {
      throw new IllegalStateException("stopping the test S3 server failed", e);
    }
  }
}
