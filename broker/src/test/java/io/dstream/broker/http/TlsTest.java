package io.dstream.broker.http;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.TlsSettings;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.WebSocket;
import io.vertx.core.http.WebSocketClient;
import io.vertx.core.http.WebSocketClientOptions;
import io.vertx.core.http.WebSocketConnectOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.PemTrustOptions;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** HTTPS and WSS on the broker's one port, with a self-signed certificate made for the test by openssl. */
@ExtendWith(VertxExtension.class)
class TlsTest {

  @Test
  void httpsAndWssServeWithTheConfiguredCertificate(Vertx vertx) throws Exception {
    Path dir = Files.createTempDirectory("dstream-tls");
    Path cert = dir.resolve("cert.pem");
    Path key = dir.resolve("key.pem");
    Process openssl = new ProcessBuilder("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        "-subj", "/CN=localhost", "-keyout", key.toString(), "-out", cert.toString()).redirectErrorStream(true).start();
    openssl.getInputStream().transferTo(OutputStream.nullOutputStream());
    assertEquals(0, openssl.waitFor(), "openssl could not make a self-signed certificate");
    TlsSettings tls = new TlsSettings(cert, key);
    try (TestBroker broker = TestBroker.start(vertx, b -> b.tls(tls))) {
      PemTrustOptions trust = new PemTrustOptions().addCertPath(cert.toString());
      WebClient https = WebClient.create(vertx, new WebClientOptions().setSsl(true).setTrustOptions(trust)
          .setVerifyHost(false));
      HttpResponse<Buffer> health = https.get(broker.port(), "127.0.0.1", "/health").send().await();
      assertEquals(200, health.statusCode());

      WebClient plain = WebClient.create(vertx);
      assertThrows(RuntimeException.class, () -> plain.get(broker.port(), "127.0.0.1", "/health")
          .timeout(5000).send().await(), "plain HTTP is not served on a TLS port");

      WebSocketClient wss = vertx.createWebSocketClient(new WebSocketClientOptions().setSsl(true)
          .setTrustOptions(trust).setVerifyHost(false));
      WebSocket socket = wss.connect(new WebSocketConnectOptions().setHost("127.0.0.1").setPort(broker.port())
          .setSsl(true).setURI("/stream/secure?apiKey=" + TestBroker.API_KEY)).await();
      CompletableFuture<String> reply = new CompletableFuture<>();
      socket.textMessageHandler(reply::complete);
      socket.writeTextMessage(new JsonObject().put("data", new JsonObject().put("n", 1)).put("cMsgId", 1).put("clientId", 1)
          .encode()).await();
      assertEquals(1L, new JsonObject(reply.get(10, TimeUnit.SECONDS)).getLong("sequence"));
      socket.close().await();
      wss.close().await();
    }
  }
}
