package io.dstream.broker.nats;

import io.dstream.broker.TestBroker;
import io.dstream.broker.config.NatsSettings;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The session of docs/protocol-nats.md, line by line over a real socket: consecutive {@code >}
 * lines are sent together (each ended by CRLF, {@code KEY} replaced by the broker's key), and every
 * {@code <} line must be the next line the broker sends, exactly (the {@code INFO} line only by its start).
 */
class NatsDocsSessionTest {

  private static final Path DOC = Path.of("..", "docs", "protocol-nats.md");

  @Test
  void theDocumentedSessionIsWhatTheBrokerSends() throws Exception {
    List<String> lines = session();
    assertFalse(lines.isEmpty(), "the doc has a session of > and < lines");
    Vertx vertx = Vertx.vertx();
    try (TestBroker broker = TestBroker.start(vertx, b -> b.nats(NatsSettings.DEFAULT.withPort(NatsSettings.ANY_FREE_PORT)));
         Socket socket = new Socket("127.0.0.1", broker.broker().natsPort())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      InputStream in = socket.getInputStream();
      StringBuilder toSend = new StringBuilder();
      for (String line : lines) {
        if (line.startsWith(">")) {
          toSend.append(line.length() > 1 ? line.substring(2) : "").append("\r\n");
          continue;
        }
        if (toSend.length() > 0) {
          out.write(toSend.toString().replace("KEY", TestBroker.API_KEY).getBytes(StandardCharsets.UTF_8));
          out.flush();
          toSend.setLength(0);
        }
        String expected = line.length() > 1 ? line.substring(2) : "";
        String got = readLine(in);
        if (expected.equals("INFO {...}")) {
          assertTrue(got.startsWith("INFO {"), got);
        } else {
          assertEquals(expected, got);
        }
      }
    } finally {
      vertx.close().await();
    }
  }

  private static List<String> session() throws Exception {
    List<String> all = Files.readAllLines(DOC);
    int start = all.indexOf("## Session on the wire");
    List<String> lines = new ArrayList<>();
    boolean inBlock = false;
    for (String line : all.subList(start, all.size())) {
      if (line.equals("```text")) {
        inBlock = true;
      } else if (inBlock && line.equals("```")) {
        break;
      } else if (inBlock) {
        lines.add(line);
      }
    }
    return lines;
  }

  private static String readLine(InputStream in) throws Exception {
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    int previous = -1;
    for (int b; (b = in.read()) >= 0; previous = b) {
      if (previous == '\r' && b == '\n') {
        byte[] bytes = line.toByteArray();
        return new String(bytes, 0, bytes.length - 1, StandardCharsets.UTF_8);
      }
      line.write(b);
    }
    throw new AssertionError("the broker closed the connection after: " + line);
  }
}
