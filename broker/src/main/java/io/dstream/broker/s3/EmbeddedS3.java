package io.dstream.broker.s3;

import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.nio2blob.FilesystemNio2BlobStore;
import org.gaul.shaded.org.eclipse.jetty.server.Connector;
import org.gaul.shaded.org.eclipse.jetty.server.HttpConnectionFactory;
import org.gaul.shaded.org.eclipse.jetty.server.Server;

import java.lang.reflect.Field;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The S3-compatible server the broker runs when no endpoint is configured: S3Proxy with its
 * filesystem backend under {@code DATA_DIR/s3} (one directory per bucket), listening on
 * 127.0.0.1 on a free port. The broker talks to it with the MinIO SDK exactly as to MinIO or R2.
 *
 * <p>Credentials: the configured access and secret key if both are set, otherwise a random pair
 * made at each start (only this process knows it). Not thread-safe: started and stopped by
 * {@link S3Connection} only.
 */
public final class EmbeddedS3 {

  private static final int JETTY_THREADS = 32;

  private final S3Proxy proxy;
  private final String accessKey;
  private final String secretKey;

  private EmbeddedS3(S3Proxy proxy, String accessKey, String secretKey) {
    this.proxy = proxy;
    this.accessKey = accessKey;
    this.secretKey = secretKey;
  }

  /** Starts the server on {@code host:port} (port 0 = a free one). Blocking. */
  public static EmbeddedS3 start(Path baseDir, String host, int port, String accessKey, String secretKey)
      throws Exception {
    Files.createDirectories(baseDir);
    String access = accessKey != null ? accessKey : "dstream-" + random(8);
    String secret = secretKey != null ? secretKey : random(24);
    S3Proxy proxy = S3Proxy.builder()
        .blobStore(new FilesystemNio2BlobStore(baseDir.toAbsolutePath().toString()))
        .endpoint(URI.create("http://" + host + ":" + port))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, access, secret)
        .ignoreUnknownHeaders(true)
        .jettyMaxThreads(JETTY_THREADS)
        .build();
    keepFormBodies(proxy);
    proxy.start();
    return new EmbeddedS3(proxy, access, secret);
  }

  /**
   * Jetty parses request bodies of PUT and POST with {@code Content-Type:
   * application/x-www-form-urlencoded} as form parameters when S3Proxy reads a query parameter, so
   * such an object would arrive empty (and fail its SHA-256 check). Objects are never forms: turn
   * form parsing off. S3Proxy does not expose its Jetty server, hence the reflection.
   */
  private static void keepFormBodies(S3Proxy proxy) throws ReflectiveOperationException {
    Field field = S3Proxy.class.getDeclaredField("server");
    field.setAccessible(true);
    Server server = (Server) field.get(proxy);
    for (Connector connector : server.getConnectors()) {
      HttpConnectionFactory http = connector.getConnectionFactory(HttpConnectionFactory.class);
      if (http != null) {
        http.getHttpConfiguration().setFormEncodedMethods();
      }
    }
  }

  private static String random(int bytes) {
    byte[] raw = new byte[bytes];
    new SecureRandom().nextBytes(raw);
    return HexFormat.of().formatHex(raw);
  }

  public String endpoint() {
    return "http://127.0.0.1:" + proxy.getPort();
  }

  public String accessKey() {
    return accessKey;
  }

  public String secretKey() {
    return secretKey;
  }

  /** Stops the server; blocking. */
  public void stop() throws Exception {
    proxy.stop();
  }
}
