package io.dstream.broker.nats;

import io.vertx.core.buffer.Buffer;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Splits what a NATS client sends into operations: a control line ({@code CONNECT}, {@code PUB},
 * {@code HPUB}, {@code SUB}, {@code UNSUB}, {@code PING}, {@code PONG}) and, for publishes, the
 * payload of the byte count it announced. Reads arrive in any cut; an operation is handed on once it
 * is whole. Operation names are case-insensitive and a bare {@code \n} ends a line, as nats-server
 * accepts.
 *
 * <p>Bounds: a control line longer than {@code maxControlLine} and a payload announced larger than
 * {@code maxPayload} are violations before any of it is buffered, so one connection holds at most
 * one control line plus one payload of unparsed input.
 *
 * <p>Not thread-safe: one per connection, used on its context.
 */
final class ClientParser {

  /** What the parsed operations go to. */
  interface Operations {
    /** False stops parsing until {@link #resume}: the connection authenticates before anything else is served. */
    boolean connect(String json) throws ProtocolException;

    /** {@code headers} is null for {@code PUB}; both arrays belong to the callee. */
    void publish(String subject, String reply, byte[] headers, byte[] payload) throws ProtocolException;

    void subscribe(String subject, String queue, String sid) throws ProtocolException;

    void unsubscribe(String sid, long max) throws ProtocolException;

    void ping();

    void pong();
  }

  private static final int IDLE_BUFFER_BYTES = 4096;

  private final int maxControlLine;
  private final int maxPayload;
  private byte[] input = new byte[IDLE_BUFFER_BYTES];
  private int start;
  private int end;
  private boolean suspended;
  /** The control line of a publish whose payload is still arriving, parsed; null between operations. */
  private PendingPublish pending;

  private record PendingPublish(String subject, String reply, int headerBytes, int totalBytes) {
  }

  /** Where a publish's arguments begin and end in {@link #input}: up to four, as pairs. */
  private final int[] tokens = new int[8];
  /** The subject of the last publish, with its bytes: a publisher mostly repeats one, so it is made (and hashed) once. */
  private byte[] lastSubjectBytes = new byte[0];
  private String lastSubject;

  ClientParser(int maxControlLine, int maxPayload) {
    this.maxControlLine = maxControlLine;
    this.maxPayload = maxPayload;
  }

  /** Parses {@code chunk} and whatever waited before it, handing each whole operation to {@code ops}. */
  void feed(Buffer chunk, Operations ops) throws ProtocolException {
    append(chunk);
    while (!suspended) {
      if (pending != null) {
        int needed = pending.totalBytes() + 2;
        if (end - start < needed) {
          return;
        }
        PendingPublish publish = pending;
        pending = null;
        int headerBytes = publish.headerBytes();
        byte[] headers = headerBytes < 0 ? null : Arrays.copyOfRange(input, start, start + headerBytes);
        byte[] payload = Arrays.copyOfRange(input, start + Math.max(0, headerBytes), start + publish.totalBytes());
        int after = start + publish.totalBytes();
        if (input[after] != '\r' || input[after + 1] != '\n') {
          throw new ProtocolException("Unknown Protocol Operation");
        }
        start = after + 2;
        ops.publish(publish.subject(), publish.reply(), headers, payload);
        continue;
      }
      int newline = indexOfNewline();
      if (newline < 0) {
        if (end - start > maxControlLine) {
          throw new ProtocolException("Maximum Control Line Exceeded");
        }
        compact();
        return;
      }
      int lineEnd = newline > start && input[newline - 1] == '\r' ? newline - 1 : newline;
      if (lineEnd - start > maxControlLine) {
        throw new ProtocolException("Maximum Control Line Exceeded");
      }
      int arguments = publishArguments(lineEnd);
      if (arguments > 0) {
        int lineStart = start;
        start = newline + 1;
        pub(lineStart + arguments, lineEnd, arguments == 4);
        continue;
      }
      String line = new String(input, start, lineEnd - start, StandardCharsets.UTF_8);
      start = newline + 1;
      controlLine(line, ops);
    }
  }

  /** Parses what waited while parsing was stopped by {@link Operations#connect}. */
  void resume(Operations ops) throws ProtocolException {
    suspended = false;
    feed(Buffer.buffer(), ops);
  }

  private void controlLine(String line, Operations ops) throws ProtocolException {
    int space = firstSeparator(line);
    int opLength = space < 0 ? line.length() : space;
    String rest = space < 0 ? "" : line.substring(space + 1);
    if (is(line, opLength, "SUB")) {
      String[] args = args(rest);
      if (args.length == 2) {
        ops.subscribe(args[0], null, args[1]);
      } else if (args.length == 3) {
        ops.subscribe(args[0], args[1], args[2]);
      } else {
        throw new ProtocolException("Invalid Subject");
      }
    } else if (is(line, opLength, "UNSUB")) {
      String[] args = args(rest);
      if (args.length == 1) {
        ops.unsubscribe(args[0], -1);
      } else if (args.length == 2) {
        ops.unsubscribe(args[0], number(args[1]));
      } else {
        throw new ProtocolException("Unknown Protocol Operation");
      }
    } else if (is(line, opLength, "PING")) {
      ops.ping();
    } else if (is(line, opLength, "PONG")) {
      ops.pong();
    } else if (is(line, opLength, "CONNECT")) {
      suspended = !ops.connect(rest.strip());
    } else if (opLength != 0) {
      // An empty line between operations is ignored, as nats-server does.
      throw new ProtocolException("Unknown Protocol Operation");
    }
  }

  /** Whether the operation name of {@code line} ({@code length} characters) is {@code op}, in any case. */
  private static boolean is(String line, int length, String op) {
    return length == op.length() && line.regionMatches(true, 0, op, 0, length);
  }

  /**
   * Where the arguments of a {@code PUB} (3) or {@code HPUB} (4) control line begin, relative to
   * {@link #start}, or 0 for any other line. Publishes are parsed from the bytes (no {@code String}
   * of the line, its arguments or its sizes: that was a fifth of a publish's cost).
   */
  private int publishArguments(int lineEnd) {
    int at = start;
    boolean headers = lineEnd - at > 4 && (input[at] | 0x20) == 'h';
    if (headers) {
      at++;
    }
    if (lineEnd - at > 3 && (input[at] | 0x20) == 'p' && (input[at + 1] | 0x20) == 'u' && (input[at + 2] | 0x20) == 'b'
        && separator(input[at + 3])) {
      return headers ? 4 : 3;
    }
    return 0;
  }

  /** A publish's control line, its arguments in {@code input[from, to)}: its payload is read next. */
  private void pub(int from, int to, boolean withHeaders) throws ProtocolException {
    int count = 0;
    int i = from;
    while (true) {
      while (i < to && separator(input[i])) {
        i++;
      }
      if (i == to) {
        break;
      }
      if (count == tokens.length / 2) {
        throw new ProtocolException("Unknown Protocol Operation");
      }
      tokens[2 * count] = i;
      while (i < to && !separator(input[i])) {
        i++;
      }
      tokens[2 * count + 1] = i;
      count++;
    }
    int counts = withHeaders ? 2 : 1;
    if (count != counts + 1 && count != counts + 2) {
      throw new ProtocolException("Unknown Protocol Operation");
    }
    String subject = subject(tokens[0], tokens[1]);
    String reply = count == counts + 2 ? new String(input, tokens[2], tokens[3] - tokens[2], StandardCharsets.UTF_8) : null;
    long total = number(tokens[2 * count - 2], tokens[2 * count - 1]);
    long headerBytes = withHeaders ? number(tokens[2 * count - 4], tokens[2 * count - 3]) : -1;
    if (total > maxPayload) {
      throw new ProtocolException("Maximum Payload Violation");
    }
    if (withHeaders && headerBytes > total) {
      throw new ProtocolException("Unknown Protocol Operation");
    }
    // nats.js sends every JetStream publish as HPUB, with an empty header block when it has none.
    pending = new PendingPublish(subject, reply, withHeaders && headerBytes == 0 ? -1 : (int) headerBytes, (int) total);
    ensureRoom((int) total + 2);
  }

  private String subject(int from, int to) {
    if (!Arrays.equals(input, from, to, lastSubjectBytes, 0, lastSubjectBytes.length)) {
      lastSubjectBytes = Arrays.copyOfRange(input, from, to);
      lastSubject = new String(lastSubjectBytes, StandardCharsets.UTF_8);
    }
    return lastSubject;
  }

  private long number(int from, int to) throws ProtocolException {
    if (from == to || to - from > 18) {
      throw new ProtocolException("Unknown Protocol Operation");
    }
    long value = 0;
    for (int i = from; i < to; i++) {
      byte b = input[i];
      if (b < '0' || b > '9') {
        throw new ProtocolException("Unknown Protocol Operation");
      }
      value = value * 10 + (b - '0');
    }
    return value;
  }

  /** The space- or tab-separated arguments of a control line (split by hand: a regex split was a fifth of a PUB). */
  private static String[] args(String rest) {
    int count = 0;
    for (int i = 0; i < rest.length(); i++) {
      if (!separator(rest.charAt(i)) && (i == 0 || separator(rest.charAt(i - 1)))) {
        count++;
      }
    }
    String[] args = new String[count];
    int next = 0;
    int i = 0;
    while (next < count) {
      while (separator(rest.charAt(i))) {
        i++;
      }
      int begin = i;
      while (i < rest.length() && !separator(rest.charAt(i))) {
        i++;
      }
      args[next++] = rest.substring(begin, i);
    }
    return args;
  }

  private static boolean separator(char c) {
    return c == ' ' || c == '\t';
  }

  private static boolean separator(byte b) {
    return b == ' ' || b == '\t';
  }

  private static int firstSeparator(String line) {
    for (int i = 0; i < line.length(); i++) {
      char c = line.charAt(i);
      if (c == ' ' || c == '\t') {
        return i;
      }
    }
    return -1;
  }

  private static long number(String text) throws ProtocolException {
    if (text.isEmpty() || text.length() > 18) {
      throw new ProtocolException("Unknown Protocol Operation");
    }
    long value = 0;
    for (int i = 0; i < text.length(); i++) {
      char c = text.charAt(i);
      if (c < '0' || c > '9') {
        throw new ProtocolException("Unknown Protocol Operation");
      }
      value = value * 10 + (c - '0');
    }
    return value;
  }

  private int indexOfNewline() {
    for (int i = start; i < end; i++) {
      if (input[i] == '\n') {
        return i;
      }
    }
    return -1;
  }

  private void append(Buffer chunk) {
    int length = chunk.length();
    ensureRoom(end - start + length);
    chunk.getBytes(0, length, input, end);
    end += length;
  }

  /** Room for {@code bytes} from {@code start}, moving what is unread to the front first. */
  private void ensureRoom(int bytes) {
    compact();
    if (bytes > input.length) {
      input = Arrays.copyOf(input, Math.max(bytes, 2 * input.length));
    }
  }

  private void compact() {
    if (start == end && input.length > IDLE_BUFFER_BYTES) {
      // A large payload passed: an idle connection goes back to a small buffer.
      input = new byte[IDLE_BUFFER_BYTES];
      start = 0;
      end = 0;
      return;
    }
    if (start > 0) {
      System.arraycopy(input, start, input, 0, end - start);
      end -= start;
      start = 0;
    }
  }
}
