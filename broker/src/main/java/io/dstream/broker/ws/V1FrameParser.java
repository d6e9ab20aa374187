package io.dstream.broker.ws;

import java.util.HashSet;
import java.util.Set;

/**
 * Parses client frames in one strict pass over the text, cutting the echoed values out of the
 * original text instead of re-serializing them. Thread-safe (no state between calls).
 *
 * <p>Rules: the frame is one JSON object; a non-null {@code sMsgId} makes it an ack (checked before
 * {@code cMsgId}, because acks echo the publisher's {@code cMsgId}); otherwise {@code cMsgId} (a number
 * or a string) and {@code data} are required. Duplicate keys are refused in every object.
 *
 * <p>Why a hand-written scanner and not Jackson's streaming parser: the parse was a third of the
 * event loop's time when publishing (profile in docs/benchmarks.md); most of it was creating a
 * parser per frame, copying the text and decoding strings only to skip them. The grammar is
 * RFC 8259 with the limits Jackson applied before: nesting depth 128, numbers up to 1000
 * characters, names up to 50,000 characters, no leading zeros, no control characters in strings.
 * {@code V1FrameParserTest} checks it against Jackson on generated frames.
 */
final class V1FrameParser {

  /** Deep enough for any real message, shallow enough that a hostile frame cannot exhaust the stack. */
  static final int MAX_NESTING_DEPTH = 128;
  static final int MAX_NUMBER_LENGTH = 1000;
  static final int MAX_NAME_LENGTH = 50_000;

  V1Frame parse(String text) throws V1FrameException {
    Scanner in = new Scanner(text);
    try {
      return in.frame();
    } catch (Malformed e) {
      throw new V1FrameException(V1ErrorCode.INVALID_JSON, "malformed JSON: " + e.getMessage(), null);
    }
  }

  /** Syntax error; becomes an {@code invalid_json} answer. */
  private static final class Malformed extends Exception {
    private static final long serialVersionUID = 1L;

    Malformed(String message) {
      super(message, null, false, false);
    }
  }

  /** Key names of one object, for duplicate detection; allocates nothing for the common small object. */
  private static final class Names {
    private String first;
    private String second;
    private String third;
    private Set<String> more;

    /** False if {@code name} was already there. */
    boolean add(String name) {
      if (first == null) {
        first = name;
        return true;
      }
      if (first.equals(name)) {
        return false;
      }
      if (second == null) {
        second = name;
        return true;
      }
      if (second.equals(name)) {
        return false;
      }
      if (third == null) {
        third = name;
        return true;
      }
      if (third.equals(name)) {
        return false;
      }
      if (more == null) {
        more = new HashSet<>();
      }
      return more.add(name);
    }
  }

  /** One pass over one frame's text. */
  private static final class Scanner {
    private final String text;
    private final int length;
    private int pos;

    Scanner(String text) {
      this.text = text;
      this.length = text.length();
    }

    V1Frame frame() throws Malformed, V1FrameException {
      skipWhitespace();
      if (pos >= length || text.charAt(pos) != '{') {
        throw new V1FrameException(V1ErrorCode.INVALID_JSON, "a frame must be a JSON object", null);
      }
      pos++;
      String rawData = null;
      String command = null;
      String rawCMsgId = null;
      String rawClientId = null;
      String rawAckId = null;
      boolean ackIdIsNumber = false;
      boolean dedup = false;
      Names names = new Names();
      skipWhitespace();
      if (peek() == '}') {
        pos++;
      } else {
        while (true) {
          String field = name(names);
          int start = pos;
          char first = peek();
          switch (field) {
            case "data":
              command = first == '{' ? commandOfData() : skipValue(1);
              rawData = text.substring(start, pos);
              break;
            case "cMsgId":
              skipValue(1);
              rawCMsgId = idText(first, start);
              break;
            case "clientId":
              skipValue(1);
              rawClientId = text.substring(start, pos);
              break;
            case "dedup":
              skipValue(1);
              dedup = pos - start == 4 && text.startsWith("true", start);
              break;
            case "sMsgId":
              skipValue(1);
              rawAckId = first == 'n' ? null : text.substring(start, pos);
              ackIdIsNumber = isInteger(rawAckId);
              break;
            default:
              skipValue(1);
          }
          if (endOfMembers('}')) {
            break;
          }
        }
      }
      skipWhitespace();
      if (pos < length) {
        throw new V1FrameException(V1ErrorCode.INVALID_JSON, "unexpected data after the JSON object", null);
      }
      if (rawAckId != null) {
        return new V1Frame(ackId(rawAckId, ackIdIsNumber), rawData, null, rawCMsgId, rawClientId, false);
      }
      if (rawCMsgId == null) {
        throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "a request needs a numeric cMsgId (an ack needs sMsgId)", null);
      }
      if (rawData == null) {
        throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "a request needs a data field", rawCMsgId);
      }
      return new V1Frame(0, rawData, command, rawCMsgId, rawClientId == null ? "null" : rawClientId, dedup);
    }

    private String idText(char first, int start) throws V1FrameException {
      if (first == 'n') {
        return null;
      }
      if (first != '"' && first != '-' && (first < '0' || first > '9')) {
        throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "cMsgId must be a number", null);
      }
      return text.substring(start, pos);
    }

    private static boolean isInteger(String raw) {
      if (raw == null || raw.isEmpty() || raw.charAt(0) == '"') {
        return false;
      }
      for (int i = 0; i < raw.length(); i++) {
        char c = raw.charAt(i);
        if (c == '.' || c == 'e' || c == 'E') {
          return false;
        }
      }
      return raw.charAt(0) == '-' || (raw.charAt(0) >= '0' && raw.charAt(0) <= '9');
    }

    /** The object value of {@code data} (depth 2), returning its top-level {@code cmd} as text if any. */
    private String commandOfData() throws Malformed {
      pos++;
      String command = null;
      Names names = new Names();
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        return null;
      }
      while (true) {
        String field = name(names);
        if ("cmd".equals(field) && peek() == '"') {
          command = string(true);
        } else if ("cmd".equals(field)) {
          skipValue(2);
          command = "";
        } else {
          skipValue(2);
        }
        if (endOfMembers('}')) {
          return command;
        }
      }
    }

    /** Reads {@code "name"} and the colon after it; refuses a duplicate. */
    private String name(Names names) throws Malformed {
      skipWhitespace();
      if (peek() != '"') {
        throw malformed("expected a field name in double quotes");
      }
      String name = string(true);
      if (name.length() > MAX_NAME_LENGTH) {
        throw malformed("field name longer than " + MAX_NAME_LENGTH + " characters");
      }
      if (!names.add(name)) {
        throw malformed("duplicate field '" + name + "'");
      }
      skipWhitespace();
      if (peek() != ':') {
        throw malformed("expected ':' after a field name");
      }
      pos++;
      skipWhitespace();
      return name;
    }

    /** After a member or element: true at the closing {@code close}, false after a comma. */
    private boolean endOfMembers(char close) throws Malformed {
      skipWhitespace();
      char c = peek();
      pos++;
      if (c == close) {
        return true;
      }
      if (c != ',') {
        throw malformed("expected ',' or '" + close + "'");
      }
      skipWhitespace();
      return false;
    }

    /** Skips one value whose container is at {@code depth}; returns null (so it reads as "no command"). */
    private String skipValue(int depth) throws Malformed {
      char c = peek();
      switch (c) {
        case '{':
          skipObject(depth + 1);
          break;
        case '[':
          skipArray(depth + 1);
          break;
        case '"':
          string(false);
          break;
        case 't':
          literal("true");
          break;
        case 'f':
          literal("false");
          break;
        case 'n':
          literal("null");
          break;
        default:
          if (c == '-' || (c >= '0' && c <= '9')) {
            number();
          } else {
            throw malformed(pos >= length ? "unexpected end of input" : "unexpected character '" + c + "'");
          }
      }
      return null;
    }

    private void skipObject(int depth) throws Malformed {
      checkDepth(depth);
      pos++;
      Names names = new Names();
      skipWhitespace();
      if (peek() == '}') {
        pos++;
        return;
      }
      do {
        name(names);
        skipValue(depth);
      } while (!endOfMembers('}'));
    }

    private void skipArray(int depth) throws Malformed {
      checkDepth(depth);
      pos++;
      skipWhitespace();
      if (peek() == ']') {
        pos++;
        return;
      }
      do {
        skipValue(depth);
      } while (!endOfMembers(']'));
    }

    private void checkDepth(int depth) throws Malformed {
      if (depth > MAX_NESTING_DEPTH) {
        throw malformed("nesting deeper than " + MAX_NESTING_DEPTH);
      }
    }

    private void literal(String word) throws Malformed {
      if (!text.startsWith(word, pos)) {
        throw malformed("unrecognized token");
      }
      pos += word.length();
    }

    private void number() throws Malformed {
      int start = pos;
      if (peek() == '-') {
        pos++;
      }
      char c = peek();
      if (c == '0') {
        pos++;
        if (isDigit(peek())) {
          throw malformed("leading zeros are not allowed");
        }
      } else if (c >= '1' && c <= '9') {
        skipDigits();
      } else {
        throw malformed("a number needs a digit");
      }
      if (peek() == '.') {
        pos++;
        if (!isDigit(peek())) {
          throw malformed("a decimal point needs a digit after it");
        }
        skipDigits();
      }
      c = peek();
      if (c == 'e' || c == 'E') {
        pos++;
        c = peek();
        if (c == '+' || c == '-') {
          pos++;
        }
        if (!isDigit(peek())) {
          throw malformed("an exponent needs a digit");
        }
        skipDigits();
      }
      if (pos - start > MAX_NUMBER_LENGTH) {
        throw malformed("number longer than " + MAX_NUMBER_LENGTH + " characters");
      }
    }

    private void skipDigits() {
      while (pos < length && isDigit(text.charAt(pos))) {
        pos++;
      }
    }

    private static boolean isDigit(char c) {
      return c >= '0' && c <= '9';
    }

    /**
     * Reads a string starting at its opening quote; returns its decoded value if {@code decode},
     * otherwise only validates it (and returns null).
     */
    private String string(boolean decode) throws Malformed {
      int start = ++pos;
      while (pos < length) {
        char c = text.charAt(pos);
        if (c == '"') {
          pos++;
          return decode ? text.substring(start, pos - 1) : null;
        }
        if (c == '\\') {
          return escapedString(start, decode);
        }
        if (c < 0x20) {
          throw malformed("control character in a string");
        }
        pos++;
      }
      throw malformed("unterminated string");
    }

    private String escapedString(int start, boolean decode) throws Malformed {
      StringBuilder out = decode ? new StringBuilder(text.length() - start).append(text, start, pos) : null;
      while (pos < length) {
        char c = text.charAt(pos++);
        if (c == '"') {
          return decode ? out.toString() : null;
        }
        if (c < 0x20) {
          throw malformed("control character in a string");
        }
        if (c == '\\') {
          c = escape();
        }
        if (decode) {
          out.append(c);
        }
      }
      throw malformed("unterminated string");
    }

    private char escape() throws Malformed {
      if (pos >= length) {
        throw malformed("unterminated string");
      }
      char c = text.charAt(pos++);
      switch (c) {
        case '"':
        case '\\':
        case '/':
          return c;
        case 'b':
          return '\b';
        case 'f':
          return '\f';
        case 'n':
          return '\n';
        case 'r':
          return '\r';
        case 't':
          return '\t';
        case 'u':
          if (pos + 4 > length) {
            throw malformed("unterminated \\u escape");
          }
          int value = 0;
          for (int i = 0; i < 4; i++) {
            int digit = Character.digit(text.charAt(pos++), 16);
            if (digit < 0) {
              throw malformed("bad \\u escape");
            }
            value = value * 16 + digit;
          }
          return (char) value;
        default:
          throw malformed("bad escape '\\" + c + "'");
      }
    }

    private void skipWhitespace() throws Malformed {
      while (pos < length) {
        char c = text.charAt(pos);
        if (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
          pos++;
        } else if (c < 0x20) {
          throw malformed("control character outside a string");
        } else {
          return;
        }
      }
    }

    /** The current character, or 0 at the end (which no rule accepts). */
    private char peek() {
      return pos < length ? text.charAt(pos) : 0;
    }

    private Malformed malformed(String what) {
      return new Malformed(what + " at character " + pos);
    }
  }

  private static long ackId(String raw, boolean isNumber) throws V1FrameException {
    long id = 0;
    if (isNumber) {
      try {
        id = Long.parseLong(raw);
      } catch (NumberFormatException e) {
        id = 0;
      }
    }
    if (id <= 0) {
      throw new V1FrameException(V1ErrorCode.INVALID_FRAME, "sMsgId must be a positive integer, got " + raw, null);
    }
    return id;
  }
}
