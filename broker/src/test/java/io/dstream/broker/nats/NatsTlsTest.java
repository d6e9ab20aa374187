package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.dstream.broker.config.TlsSettings;
import io.nats.client.Connection;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** With the broker's certificate configured, the NATS TCP port requires TLS after INFO, as nats-server does. */
@SuppressWarnings("try") // jnats' Connection.close() may throw InterruptedException; try-with-resources still closes it best
class NatsTlsTest {

  /** Enough connections to land on every listener several times, and to meet a handshake race if there is one. */
  private static final int CONNECTIONS = 12;

  @Test
  void theTcpPortSpeaksTlsWithTheBrokersCertificate() throws Exception {
    Path dir = Files.createTempDirectory("dstream-nats-tls");
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", key.toString(),
        "-out", cert.toString()).redirectErrorStream(true).start();
    openssl.getInputStream().transferTo(OutputStream.nullOutputStream());
    assertEquals(0, openssl.waitFor(), "openssl could not make a self-signed certificate");
    Vertx vertx = Vertx.vertx();
    // A fixed port, as in production: one listener per event loop shares it, and each must do TLS.
    int fixedPort;
    try (ServerSocket probe = new ServerSocket(0)) {
      fixedPort = probe.getLocalPort();
    }
    try (TestBroker broker = TestBroker.start(vertx, b -> b.tls(new TlsSettings(cert, key))
        .nats(NatsSettings.DEFAULT.withPort(fixedPort)))) {
      int port = broker.broker().natsPort();
      try (Socket plain = new Socket("127.0.0.1", port)) {
        plain.setSoTimeout(5000);
        InputStream in = plain.getInputStream();
        byte[] info = new byte[4096];
        String first = new String(info, 0, in.read(info), StandardCharsets.US_ASCII);
        assertTrue(first.startsWith("INFO {") && first.contains("\"tls_required\":true"), first);
      }
      SSLContext trust = trusting(cert);
      for (int i = 1; i <= CONNECTIONS; i++) {
        try (Connection nc = Nats.connect(new Options.Builder().server("tls://127.0.0.1:" + port).sslContext(trust)
            .token(TestBroker.API_KEY.toCharArray()).noReconnect().connectionTimeout(Duration.ofSeconds(10)).build())) {
          assertEquals(i, nc.jetStream().publish("tls.orders", "secret".getBytes(StandardCharsets.UTF_8)).getSeqno());
        }
      }
    } finally {
      vertx.close().await();
    }
  }

  private static SSLContext trusting(Path cert) throws Exception {
    KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(cert)) {
      trust.setCertificateEntry("broker", CertificateFactory.getInstance("X.509").generateCertificate(in));
    }
    TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    factory.init(trust);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, factory.getTrustManagers(), null);
    return context;
  }
}
