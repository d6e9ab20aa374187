package io.dstream.cli;

import io.dstream.pattern.TokenPattern;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.dstream.client.FileClient;
import io.nats.client.impl.Headers;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** How the CLI reads its arguments: data, times, ranges and subject patterns. */
class CliParsingTest {

  @Test
  void dataIsJsonWhenItParsesElseAString() {
    assertEquals(new JsonObject().put("a", 1), JsonArgs.data("{\"a\":1}", false));
    assertEquals(new JsonArray().add(1), JsonArgs.data("[1]", false));
    assertEquals(42, JsonArgs.data("42", false));
    assertEquals("hello world", JsonArgs.data("hello world", false));
    assertEquals("{\"a\":1}", JsonArgs.data("{\"a\":1}", true));
    assertEquals(null, JsonArgs.data("null", false));
    assertEquals("nul", JsonArgs.data("nul", false));
  }

  @Test
  void headersAreNameColonValue() {
    Headers headers = NatsMessages.headers(List.of("Nats-Msg-Id: order-42", "K:v"));
    assertEquals("order-42", headers.getFirst("Nats-Msg-Id"));
    assertEquals("v", headers.getFirst("K"));
    assertNull(NatsMessages.headers(List.of()));
    assertThrows(IllegalArgumentException.class, () -> NatsMessages.headers(List.of("no colon")));
    assertThrows(IllegalArgumentException.class, () -> NatsMessages.headers(List.of(": no name")));
  }

  @Test
  void sinceTakesInstantsEpochMillisAndAges() {
    assertEquals(Instant.parse("2026-11-22T10:00:00Z"), SubCommand.time("2026-11-22T10:00:00Z"));
    assertEquals(Instant.ofEpochMilli(1795330970339L), SubCommand.time("1795330970339"));
    Instant fifteenMinutesAgo = SubCommand.time("15m");
    assertTrue(Duration.between(fifteenMinutesAgo, Instant.now()).toMinutes() >= 14);
    assertEquals(Duration.ofMillis(250), SubCommand.age("250ms"));
    assertEquals(Duration.ofDays(1), SubCommand.age("1d"));
    assertThrows(IllegalArgumentException.class, () -> SubCommand.time("yesterday"));
  }

  @Test
  void rangesFollowRfc9110() {
    assertEquals("bytes=0-99", FilesCommand.Get.parseRange("0-99").header());
    assertEquals("bytes=100-", FilesCommand.Get.parseRange("100-").header());
    assertEquals("bytes=-10", FilesCommand.Get.parseRange("-10").header());
    assertEquals(FileClient.ByteRange.last(10), FilesCommand.Get.parseRange("-10"));
    assertThrows(IllegalArgumentException.class, () -> FilesCommand.Get.parseRange("-"));
    assertThrows(IllegalArgumentException.class, () -> FilesCommand.Get.parseRange("a-b"));
  }

  @Test
  void progressShowsAmountRateAndTimeLeft() {
    ProgressBar bytes = new ProgressBar("put k", true, true);
    assertEquals("put k [############            ] 50% 5.0 MB/10.0 MB  2.5 MB/s  ETA 2s", bytes.line(5_000_000, 10_000_000, 2.0));
    assertEquals("put k [#                       ] 5% 5.0 MB/100.0 MB  50.0 kB/s  ETA 31m40s",
        bytes.line(5_000_000, 100_000_000, 100.0));
    assertEquals("put k 512 B  256 B/s", bytes.line(512, -1, 2.0));
    assertEquals("export [########################] 100% 1,000/1,000  500 /s  ETA 0s",
        new ProgressBar("export", true, false).line(1000, 1000, 2.0));
  }

  @Test
  void jsonLookingTextMustBeJson() {
    IllegalArgumentException bad = assertThrows(IllegalArgumentException.class, () -> JsonArgs.data("{\"item\":\"book\",}", false));
    assertTrue(bad.getMessage().startsWith("the message looks like JSON but is not valid at column 16: "), bad.getMessage());
    assertFalse(bad.getMessage().contains("\n") || bad.getMessage().contains("REDACTED"), bad.getMessage());
    assertEquals("{\"item\":\"book\",}", JsonArgs.data("{\"item\":\"book\",}", true));
    assertThrows(IllegalArgumentException.class, () -> JsonArgs.data("[1,", false));
    assertThrows(IllegalArgumentException.class, () -> JsonArgs.data("\"open", false));
    assertEquals("1,2", JsonArgs.data("1,2", false), "plain text stays text");
    IllegalArgumentException notObject = assertThrows(IllegalArgumentException.class, () -> JsonArgs.object("[1]", "the state"));
    assertEquals("the state must be a JSON object {...}, got array", notObject.getMessage());
  }

  @Test
  void subjectPatternsUseNatsWildcards() {
    assertTrue(TokenPattern.subjects("orders.*").matches("orders.eu"));
    assertFalse(TokenPattern.subjects("orders.*").matches("orders.eu.paris"));
    assertTrue(TokenPattern.subjects("orders.>").matches("orders.eu.paris"));
    assertFalse(TokenPattern.subjects("orders.>").matches("orders"));
    assertTrue(TokenPattern.subjects("orders.eu").matches("orders.eu"));
    assertFalse(TokenPattern.subjects("orders.eu").matches("orders.us"));
    assertTrue(TokenPattern.subjects("*.eu").matches("orders.eu"));
    assertThrows(IllegalArgumentException.class, () -> TokenPattern.subjects("a.>.b"));
    assertThrows(IllegalArgumentException.class, () -> TokenPattern.subjects("a..b"));
    assertThrows(IllegalArgumentException.class, () -> TokenPattern.subjects("a.b*"));
  }
}
