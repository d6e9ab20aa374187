package io.dstream.broker.ws;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * The hand-written frame scanner must accept, refuse and cut out exactly what the Jackson-based
 * parser it replaced did: checked on hand-picked frames and on randomly mutated ones.
 */
class V1FrameParserTest {

  private static final List<String> SEEDS = List.of(
      "{\"data\":\"hello\",\"cMsgId\":1,\"clientId\":7}",
      "{\"data\":{\"item\":\"book\",\"n\":[1,2.5,-3e7,true,false,null]},\"cMsgId\":1.4411767384520637,\"clientId\":null}",
      "{\"data\":{\"cmd\":\"subscribe\",\"startSequence\":3},\"cMsgId\":\"c-1\",\"clientId\":7}",
      "{\"data\":{\"cmd\":5},\"cMsgId\":2}",
      "{\"data\":{\"x\":{\"cmd\":\"nested\"}},\"cMsgId\":3,\"clientId\":{\"a\":[{}]}}",
      "{\"data\":\"x\",\"cMsgId\":1,\"clientId\":7,\"ip\":\"1.2.3.4\",\"sequence\":9,\"sMsgId\":1700000000000001}",
      "{\"sMsgId\":12}",
      " { \"data\" : [ ] , \"cMsgId\" : -0.5e-3 , \"other\" : \"\\u00e9\\n\\\"\" } \n",
      "{\"d\\u0061ta\":\"escaped name\",\"cMsgId\":4}",
      "{\"data\":\"caf\u00e9 \\ud83d\\ude00\",\"cMsgId\":5,\"clientId\":\"\u2603\"}");

  private final V1FrameParser scanner = new V1FrameParser();
  private final JacksonFrameParser reference = new JacksonFrameParser();

  @Test
  void seedsParseLikeTheReference() {
    for (String seed : SEEDS) {
      assertSame(seed);
    }
  }

  @Test
  void handPickedEdgeCasesParseLikeTheReference() {
    List<String> cases = new ArrayList<>(List.of(
        "", " ", "[]", "null", "\"x\"", "{", "}", "{}", "{\"data\":1}", "{\"cMsgId\":1}",
        "{\"data\":1,\"cMsgId\":7} trailing", "{\"data\":1,\"cMsgId\":7} {}", "{\"data\":1,\"cMsgId\":7}\u0000",
        "{\"data\":1,\"data\":2,\"cMsgId\":1}", "{\"data\":{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"a\":5},\"cMsgId\":1}",
        "{\"data\":{\"a\":1,\"\\u0061\":2},\"cMsgId\":1}", "{\"data\":01,\"cMsgId\":1}", "{\"data\":-,\"cMsgId\":1}",
        "{\"data\":1.,\"cMsgId\":1}", "{\"data\":.5,\"cMsgId\":1}", "{\"data\":1e,\"cMsgId\":1}", "{\"data\":+1,\"cMsgId\":1}",
        "{\"data\":NaN,\"cMsgId\":1}", "{\"data\":tru,\"cMsgId\":1}", "{\"data\":truex,\"cMsgId\":1}",
        "{\"data\":[1,],\"cMsgId\":1}", "{\"data\":{\"a\":1,},\"cMsgId\":1}", "{\"data\":'x',\"cMsgId\":1}",
        "{\"data\":\"a\u0001b\",\"cMsgId\":1}", "{\"data\":\"\\x\",\"cMsgId\":1}", "{\"data\":\"\\u12\",\"cMsgId\":1}",
        "{\"data\":1,\"cMsgId\":true}", "{\"data\":1,\"cMsgId\":[1]}", "{\"data\":1,\"cMsgId\":{\"a\":1}}",
        "{\"data\":1,\"cMsgId\":null}", "{\"data\":1,\"cMsgId\":tru}", "{\"cMsgId\":true,", "{\"cMsgId\":\"s\"}",
        "{\"sMsgId\":null,\"cMsgId\":1,\"data\":2}", "{\"sMsgId\":0}", "{\"sMsgId\":-4}", "{\"sMsgId\":1.5}",
        "{\"sMsgId\":\"12\"}", "{\"sMsgId\":99999999999999999999}", "{\"sMsgId\":1e3}", "{\"sMsgId\":{}}",
        "{\"data\":1 \"cMsgId\":1}", "{\"data\" 1,\"cMsgId\":1}", "{data:1,\"cMsgId\":1}", "{\"data\":1,\"cMsgId\":1",
        "{\"data\":/*c*/1,\"cMsgId\":1}", "{\"data\":1,\u000b\"cMsgId\":1}", "\ufeff{\"data\":1,\"cMsgId\":1}",
        "{\"data\":{\"cmd\":\"getState\",\"cmd\":\"x\"},\"cMsgId\":1}", "{\"data\":{\"cmd\":null},\"cMsgId\":1}",
        "{\"data\":{},\"cMsgId\":1}", "{\"data\":[],\"cMsgId\":1}", "{\"data\":\"\",\"cMsgId\":\"\"}"));
    cases.add("{\"data\":" + "[".repeat(127) + "]".repeat(127) + ",\"cMsgId\":1}");
    cases.add("{\"data\":" + "[".repeat(128) + "]".repeat(128) + ",\"cMsgId\":1}");
    cases.add("{\"data\":" + "{\"a\":".repeat(127) + "1" + "}".repeat(127) + ",\"cMsgId\":1}");
    cases.add("{\"data\":" + "{\"a\":".repeat(128) + "1" + "}".repeat(128) + ",\"cMsgId\":1}");
    for (String frame : cases) {
      assertSame(frame);
    }
  }

  @Test
  void mutatedFramesParseLikeTheReference() {
    Random random = new Random(20261122);
    String alphabet = "{}[]\":,\\ -0123456789.eE+tfnulrsaxd\t\n\u0001\u00e9/u";
    for (int i = 0; i < 40_000; i++) {
      StringBuilder frame = new StringBuilder(SEEDS.get(random.nextInt(SEEDS.size())));
      int mutations = 1 + random.nextInt(3);
      for (int m = 0; m < mutations && frame.length() > 0; m++) {
        int at = random.nextInt(frame.length());
        char c = alphabet.charAt(random.nextInt(alphabet.length()));
        switch (random.nextInt(3)) {
          case 0 -> frame.insert(at, c);
          case 1 -> frame.deleteCharAt(at);
          default -> frame.setCharAt(at, c);
        }
      }
      assertSame(frame.toString());
    }
  }

  @Test
  void refusesWhatTheProtocolRefuses() {
    V1FrameException duplicate = assertThrows(V1FrameException.class,
        () -> scanner.parse("{\"data\":{\"a\":1,\"a\":2},\"cMsgId\":1}"));
    assertEquals(V1ErrorCode.INVALID_JSON, duplicate.code);
    V1FrameException noData = assertThrows(V1FrameException.class, () -> scanner.parse("{\"cMsgId\":9}"));
    assertEquals(V1ErrorCode.INVALID_FRAME, noData.code);
    assertEquals("9", noData.rawCMsgId);
    V1FrameException tooDeep = assertThrows(V1FrameException.class,
        () -> scanner.parse("{\"data\":" + "[".repeat(128) + "]".repeat(128) + ",\"cMsgId\":1}"));
    assertEquals(V1ErrorCode.INVALID_JSON, tooDeep.code);
  }

  @Test
  void cutsTheOriginalText() throws V1FrameException {
    V1Frame frame = scanner.parse("{\"data\":{\"cmd\":\"sub\\u0073cribe\",\"n\":1.50},\"cMsgId\":1.4411767384520637}");
    assertEquals("{\"cmd\":\"sub\\u0073cribe\",\"n\":1.50}", frame.rawData());
    assertEquals("subscribe", frame.command());
    assertEquals("1.4411767384520637", frame.rawCMsgId());
    assertEquals("null", frame.rawClientId());
    assertNull(scanner.parse("{\"data\":\"x\",\"cMsgId\":1}").command());
  }

  private void assertSame(String frame) {
    Object expected = outcome(() -> reference.parse(frame));
    Object actual = outcome(() -> scanner.parse(frame));
    assertEquals(expected, actual, () -> "frame: " + frame);
  }

  private interface Parse {
    V1Frame run() throws V1FrameException;
  }

  /** A parsed frame, or the error's code and cMsgId (messages may differ). */
  private static Object outcome(Parse parse) {
    try {
      return parse.run();
    } catch (V1FrameException e) {
      return e.code + " " + e.rawCMsgId;
    }
  }
}
