package io.dstream.broker.hostile;

import io.dstream.broker.TestBroker;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Requests the router or Vert.x itself used to answer with a 500, plain text, an empty body or the
 * wrong route: each gets the documented JSON error (or, for the largest offset, an empty read).
 */
class MalformedRequestsTest {

  private static Vertx vertx;
  private static TestBroker broker;
  private static WebClient http;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    broker = TestBroker.start(vertx);
    http = WebClient.create(vertx);
  }

  @AfterAll
  static void stop() {
    broker.close();
    vertx.close().await();
  }

  /** Sends raw bytes (the request must ask for Connection: close) and returns status line and body. */
  private static String[] raw(byte[] request) throws Exception {
    NetClient tcp = vertx.createNetClient();
    try {
      NetSocket socket = tcp.connect(broker.port(), "127.0.0.1").await();
      Buffer received = Buffer.buffer();
      CompletableFuture<String> done = new CompletableFuture<>();
      socket.handler(received::appendBuffer);
      socket.closeHandler(v -> done.complete(received.toString(StandardCharsets.UTF_8)));
      socket.write(Buffer.buffer(request)).await();
      String response = done.get(10, TimeUnit.SECONDS);
      int bodyStart = response.indexOf("\r\n\r\n");
      return new String[] {response.substring(0, response.indexOf("\r\n")), response.substring(bodyStart + 4)};
    } finally {
      tcp.close().await();
    }
  }

  private static String[] raw(String head) throws Exception {
    return raw((head + "Host: 127.0.0.1\r\nauth: " + TestBroker.API_KEY + "\r\nConnection: close\r\n\r\n")
        .getBytes(StandardCharsets.UTF_8));
  }

  private static String errorCode(String body) {
    return new JsonObject(body).getJsonObject("error").getString("code");
  }

  @Test
  void aQueryStringThatDoesNotDecodeIs400NotA500() throws Exception {
    String[] answer = raw("GET /r2/?prefix=%zz HTTP/1.1\r\n");
    assertEquals("HTTP/1.1 400 Bad Request", answer[0]);
    assertEquals("bad_request", errorCode(answer[1]));
  }

  @Test
  void aWebSocketUpgradeWithAnInvalidUriGetsJsonNotPlainText() throws Exception {
    String[] answer = raw("GET /stream/a|b HTTP/1.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n");
    assertTrue(answer[0].startsWith("HTTP/1.1 400"), answer[0]);
    assertEquals("bad_request", errorCode(answer[1]));
  }

  @Test
  void aRequestLineTooLongGets414WithAJsonBody() throws Exception {
    String[] answer = raw("GET /stream/" + "a".repeat(10_000) + " HTTP/1.1\r\n");
    // The request line was never parsed, so Vert.x answers in HTTP/1.0.
    assertTrue(answer[0].contains(" 414 "), answer[0]);
    assertEquals("uri_too_long", errorCode(answer[1]));
  }

  @Test
  void aPutOfTheReservedCheckpointKeyIs400Not502() {
    HttpResponse<Buffer> put = http.put(broker.port(), "127.0.0.1", "/r2/_dstream").putHeader("auth", TestBroker.API_KEY)
        .sendBuffer(Buffer.buffer("x")).await();
    assertEquals(400, put.statusCode());
    assertEquals("invalid_key", put.bodyAsJsonObject().getJsonObject("error").getString("code"));
  }

  @Test
  void theLargestOffsetReadsNothingInsteadOfBeingRefused() {
    http.post(broker.port(), "127.0.0.1", "/stream/max.offset").putHeader("auth", TestBroker.API_KEY)
        .sendJsonObject(new JsonObject().put("records", new JsonArray().add(1))).await();
    HttpResponse<Buffer> read = http.get(broker.port(), "127.0.0.1", "/stream/max.offset?offset=" + Long.MAX_VALUE)
        .putHeader("auth", TestBroker.API_KEY).send().await();
    assertEquals(200, read.statusCode());
    assertEquals(new JsonObject().put("records", new JsonArray()), read.bodyAsJsonObject());
  }

  @Test
  void dotSegmentSubjectsAre400NotAnotherRoute() throws Exception {
    for (String path : new String[] {"/stream/..", "/stream/%2e%2e", "/stream/.", "/stream/a/../b"}) {
      String[] answer = raw("GET " + path + " HTTP/1.1\r\n");
      assertEquals("HTTP/1.1 400 Bad Request", answer[0], path);
      assertEquals("invalid_path", errorCode(answer[1]), path);
    }
  }

  @Test
  void rawUtf8BytesInAPathAreDecodedAsUtf8() throws Exception {
    byte[] head = ("POST /stream/caf\u00e9.bar HTTP/1.1\r\nHost: 127.0.0.1\r\nauth: " + TestBroker.API_KEY
        + "\r\nContent-Type: application/json\r\nContent-Length: 15\r\nConnection: close\r\n\r\n{\"records\":[7]}")
        .getBytes(StandardCharsets.UTF_8);
    String[] answer = raw(head);
    assertEquals("HTTP/1.1 200 OK", answer[0], answer[1]);
    HttpResponse<Buffer> read = http.get(broker.port(), "127.0.0.1", "/stream/caf%C3%A9.bar?offset=-")
        .putHeader("auth", TestBroker.API_KEY).send().await();
    assertEquals(7, read.bodyAsJsonObject().getJsonArray("records").getJsonObject(0).getInteger("data"),
        "the raw bytes and their percent-encoding name the same subject");
  }
}
