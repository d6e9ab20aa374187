package io.dstream.broker.durablestreams;

import io.dstream.broker.TestBroker;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.junit5.VertxExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Durable Streams protocol against a real broker: the behaviours the conformance suite also covers, plus restarts. */
@ExtendWith(VertxExtension.class)
class DurableStreamsTest {

  private TestBroker broker;
  private WebClient http;

  @BeforeEach
  void start(Vertx vertx) throws Exception {
    broker = TestBroker.start(vertx, b -> b.longPollTimeout(Duration.ofSeconds(60)));
    http = WebClient.create(vertx);
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  private HttpRequest<Buffer> request(HttpMethod method, String uri) {
    return http.request(method, broker.port(), "127.0.0.1", uri).putHeader("Authorization", "Bearer " + TestBroker.API_KEY);
  }

  private HttpResponse<Buffer> put(String path, String contentType, Buffer body) {
    HttpRequest<Buffer> put = request(HttpMethod.PUT, "/v1/stream/" + path).putHeader("Content-Type", contentType);
    return (body == null ? put.send() : put.sendBuffer(body)).await();
  }

  private HttpResponse<Buffer> post(String path, String contentType, Buffer body) {
    return request(HttpMethod.POST, "/v1/stream/" + path).putHeader("Content-Type", contentType).sendBuffer(body).await();
  }

  private HttpResponse<Buffer> get(String uri) {
    return request(HttpMethod.GET, "/v1/stream/" + uri).send().await();
  }

  @Test
  void binaryAppendsRoundTripInOrderWithOrderedOffsets() {
    assertEquals(201, put("bin/a", "application/octet-stream", null).statusCode());
    byte[] first = {0, (byte) 0xff, 10, 13, 0};
    byte[] second = {(byte) 0x80, 1, 2};
    String offset1 = post("bin/a", "application/octet-stream", Buffer.buffer(first)).getHeader("Stream-Next-Offset");
    String offset2 = post("bin/a", "application/octet-stream", Buffer.buffer(second)).getHeader("Stream-Next-Offset");
    assertTrue(offset1.compareTo(offset2) < 0, offset1 + " < " + offset2);

    HttpResponse<Buffer> all = get("bin%2Fa?offset=-1");
    assertEquals(200, all.statusCode());
    assertArrayEquals(Buffer.buffer(first).appendBytes(second).getBytes(), all.body().getBytes());
    assertEquals(offset2, all.getHeader("Stream-Next-Offset"));
    assertEquals("true", all.getHeader("Stream-Up-To-Date"));
    assertArrayEquals(second, get("bin%2Fa?offset=" + offset1).body().getBytes());
  }

  @Test
  void createIsIdempotentForTheSameConfigurationAndConflictsOtherwise() {
    assertEquals(201, put("cfg", "text/plain", null).statusCode());
    assertEquals(200, put("cfg", "text/plain; charset=utf-8", null).statusCode());
    assertEquals(409, put("cfg", "application/json", null).statusCode());
    HttpResponse<Buffer> head = request(HttpMethod.HEAD, "/v1/stream/cfg").send().await();
    assertEquals(200, head.statusCode());
    assertEquals("text/plain", head.getHeader("Content-Type"));
    assertEquals(Offsets.ZERO, head.getHeader("Stream-Next-Offset"));
    assertEquals("nosniff", head.getHeader("X-Content-Type-Options"));
  }

  @Test
  void jsonModeFlattensArraysAndRefusesInvalidJson() {
    put("j", "application/json", Buffer.buffer("[{\"n\":1}]"));
    assertEquals(204, post("j", "application/json", Buffer.buffer("[{\"n\":2},{\"n\":3}]")).statusCode());
    assertEquals(400, post("j", "application/json", Buffer.buffer("{nope")).statusCode());
    assertEquals(400, post("j", "application/json", Buffer.buffer("[]")).statusCode());
    JsonArray values = get("j?offset=-1").bodyAsJsonArray();
    assertEquals(new JsonArray("[{\"n\":1},{\"n\":2},{\"n\":3}]"), values);
  }

  /** JSON bodies are split and compacted before the actor call; the stream's own checks still answer first. */
  @Test
  void jsonAppendsAreStoredCompactAndInvalidJsonIsRefusedOnlyAfterTheStreamChecks() {
    put("compact", "application/json", null);
    String spread = "[ {\"a\" : [1, 2.5, \"x\\ny\"]},\n  \"é\" , null, 12345678901234567890 ]";
    assertEquals(204, post("compact", "application/json", Buffer.buffer(spread)).statusCode());
    assertEquals("[{\"a\":[1,2.5,\"x\\ny\"]},\"é\",null,12345678901234567890]",
        get("compact?offset=-1").bodyAsString());
    assertEquals(400, post("compact", "application/json", Buffer.buffer("{\"a\":1} trailing")).statusCode());
    assertEquals(404, post("no-such-stream", "application/json", Buffer.buffer("{nope")).statusCode());
    assertEquals(200, request(HttpMethod.POST, "/v1/stream/compact").putHeader("Content-Type", "application/json")
        .putHeader("Stream-Closed", "true").send().await().statusCode() / 100 * 100);
    assertEquals(409, post("compact", "application/json", Buffer.buffer("{nope")).statusCode());
  }

  @Test
  void idempotentProducerDeduplicatesFencesAndRefusesGaps() {
    put("p", "text/plain", null);
    assertEquals(200, producerAppend("p", "w", 0, 0).statusCode());
    HttpResponse<Buffer> duplicate = producerAppend("p", "w", 0, 0);
    assertEquals(204, duplicate.statusCode());
    assertEquals("0", duplicate.getHeader("Producer-Seq"));
    HttpResponse<Buffer> gap = producerAppend("p", "w", 0, 5);
    assertEquals(409, gap.statusCode());
    assertEquals("1", gap.getHeader("Producer-Expected-Seq"));
    assertEquals(200, producerAppend("p", "w", 1, 0).statusCode());
    HttpResponse<Buffer> zombie = producerAppend("p", "w", 0, 1);
    assertEquals(403, zombie.statusCode());
    assertEquals("1", zombie.getHeader("Producer-Epoch"));
    assertEquals("x0x1", get("p?offset=-1").bodyAsString());
  }

  private HttpResponse<Buffer> producerAppend(String path, String id, long epoch, long seq) {
    return request(HttpMethod.POST, "/v1/stream/" + path).putHeader("Content-Type", "text/plain")
        .putHeader("Producer-Id", id).putHeader("Producer-Epoch", Long.toString(epoch))
        .putHeader("Producer-Seq", Long.toString(seq)).sendBuffer(Buffer.buffer("x" + epoch)).await();
  }

  @Test
  void longPollAnswersWithTheNextAppend() {
    String tail = put("lp", "text/plain", null).getHeader("Stream-Next-Offset");
    Future<HttpResponse<Buffer>> waiting = request(HttpMethod.GET, "/v1/stream/lp?live=long-poll&offset=" + tail).send();
    post("lp", "text/plain", Buffer.buffer("hello"));
    HttpResponse<Buffer> answered = waiting.await();
    assertEquals(200, answered.statusCode());
    assertEquals("hello", answered.bodyAsString());
    assertTrue(answered.getHeader("Stream-Cursor") != null);
  }

  @Test
  void sseSendsDataAndControlEventsAndEndsWhenTheStreamCloses() {
    put("sse", "application/octet-stream", Buffer.buffer(new byte[] {1, 2, 3}));
    request(HttpMethod.POST, "/v1/stream/sse").putHeader("Stream-Closed", "true").send().await();
    HttpResponse<Buffer> sse = get("sse?offset=-1&live=sse");
    assertEquals("text/event-stream", sse.getHeader("Content-Type"));
    assertEquals("base64", sse.getHeader("Stream-SSE-Data-Encoding"));
    String events = sse.bodyAsString();
    assertTrue(events.startsWith("event: data\ndata:AQID\n\nevent: control\n"), events);
    assertTrue(events.contains("\"streamClosed\":true"), events);
  }

  @Test
  void closedStreamsRefuseAppends() {
    put("c", "text/plain", Buffer.buffer("last"));
    HttpResponse<Buffer> close = request(HttpMethod.POST, "/v1/stream/c").putHeader("Stream-Closed", "true").send().await();
    assertEquals(204, close.statusCode());
    HttpResponse<Buffer> refused = post("c", "text/plain", Buffer.buffer("more"));
    assertEquals(409, refused.statusCode());
    assertEquals("true", refused.getHeader("Stream-Closed"));
    assertEquals("true", get("c?offset=-1").getHeader("Stream-Closed"));
  }

  @Test
  void forksReadTheirSourceUpToTheForkOffsetThenTheirOwnMessages() {
    String middle = put("src", "text/plain", Buffer.buffer("a")).getHeader("Stream-Next-Offset");
    post("src", "text/plain", Buffer.buffer("b"));
    HttpResponse<Buffer> fork = request(HttpMethod.PUT, "/v1/stream/fork").putHeader("Content-Type", "text/plain")
        .putHeader("Stream-Forked-From", "/v1/stream/src").putHeader("Stream-Fork-Offset", middle).send().await();
    assertEquals(201, fork.statusCode());
    post("fork", "text/plain", Buffer.buffer("c"));
    assertEquals("ac", get("fork?offset=-1").bodyAsString());
    assertEquals(204, request(HttpMethod.DELETE, "/v1/stream/src").send().await().statusCode());
    assertEquals(410, get("src?offset=-1").statusCode());
    assertEquals("ac", get("fork?offset=-1").bodyAsString());
    assertEquals(204, request(HttpMethod.DELETE, "/v1/stream/fork").send().await().statusCode());
    assertEquals(404, get("src?offset=-1").statusCode());
  }

  @Test
  void deleteRemovesTheStreamAndARecreatedOneStartsAtTheZeroOffset() {
    put("d", "text/plain", Buffer.buffer("old"));
    assertEquals(204, request(HttpMethod.DELETE, "/v1/stream/d").send().await().statusCode());
    assertEquals(404, get("d?offset=-1").statusCode());
    assertEquals(201, put("d", "text/plain", null).statusCode());
    HttpResponse<Buffer> empty = get("d?offset=-1");
    assertEquals(0, empty.body() == null ? 0 : empty.body().length());
    assertEquals(Offsets.ZERO, empty.getHeader("Stream-Next-Offset"));
  }

  @Test
  void metadataAndProducerStateSurviveARestart() {
    put("r", "text/plain", null);
    assertEquals(200, producerAppend("r", "w", 3, 0).statusCode());
    broker.stop();
    broker.restart();
    assertEquals(204, producerAppend("r", "w", 3, 0).statusCode());
    request(HttpMethod.POST, "/v1/stream/r").putHeader("Stream-Closed", "true").send().await();
    broker.stop();
    broker.restart();
    HttpResponse<Buffer> read = get("r?offset=-1");
    assertEquals("text/plain", read.getHeader("Content-Type"));
    assertEquals("true", read.getHeader("Stream-Closed"));
    assertEquals("x3", read.bodyAsString());
  }

  @Test
  void durableSubjectsAreNotReachableOverProtocolV1() {
    HttpResponse<Buffer> refused = request(HttpMethod.GET, "/stream/ds.anything").send().await();
    assertEquals(400, refused.statusCode());
    assertNull(refused.getHeader("Stream-Next-Offset"));
  }
}
