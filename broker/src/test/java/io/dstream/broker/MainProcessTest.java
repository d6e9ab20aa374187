package io.dstream.broker;

import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker as an operator starts it ({@link Main} in a child JVM): with a relative data dir, as
 * the default {@code ./data} is, the embedded S3 server stores files (it once refused every request
 * under a path with {@code /./} as a traversal); a port in use is named in one line. Slow: two JVMs.
 */
@Tag("slow")
class MainProcessTest {

  private static final Pattern LISTENING = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
  private static final long WAIT_SECONDS = 90;

  @Test
  void aRelativeDataDirServesFiles(@TempDir Path workDir) throws Exception {
    Process broker = start(workDir, "--port", "0", "--data-dir", "./data");
    try {
      int port = Integer.parseInt(awaitLine(broker, LISTENING).group(1));
      String key = "main-test-key";
      HttpClient http = HttpClient.newHttpClient();
      HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/r2/notes/a.txt"))
          .header("Authorization", "Bearer " + key).PUT(HttpRequest.BodyPublishers.ofString("hello")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertEquals(200, put.statusCode(), put.body());
      assertEquals("hello", Files.readString(workDir.resolve("data/s3/durable-stream/notes/a.txt")));
    } finally {
      stop(broker);
    }
  }

  @Test
  void aPortInUseIsNamed(@TempDir Path workDir) throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      Process broker = start(workDir, "--port", Integer.toString(port), "--data-dir", "data");
      try {
        Matcher line = awaitLine(broker, Pattern.compile("broker failed to start: (.*)"));
        assertEquals("port " + port + " on 127.0.0.1 is in use; stop what listens there or choose another port with"
            + " --port or DSTREAM_PORT (0 = any free port)", line.group(1));
        assertTrue(broker.waitFor(WAIT_SECONDS, TimeUnit.SECONDS));
        assertEquals(1, broker.exitValue());
      } finally {
        stop(broker);
      }
    }
  }

  private static Process start(Path workDir, String... args) throws IOException {
    List<String> command = new ArrayList<>(List.of(Paths.get(System.getProperty("java.home"), "bin", "java").toString(),
        "-Xmx256m", "-cp", System.getProperty("java.class.path"), Main.class.getName(), "--api-key", "main-test-key"));
    command.addAll(List.of(args));
    ProcessBuilder builder = new ProcessBuilder(command).directory(workDir.toFile()).redirectErrorStream(true);
    builder.environment().keySet().removeIf(name -> name.startsWith("DSTREAM_"));
    return builder.start();
  }

  /** Reads the child's output until a line matches; fails with everything read if it exits first. */
  private static Matcher awaitLine(Process process, Pattern pattern) throws IOException {
    StringBuilder seen = new StringBuilder();
    BufferedReader lines = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
    String line;
    while ((line = lines.readLine()) != null) {
      seen.append(line).append('\n');
      Matcher matcher = pattern.matcher(line);
      if (matcher.find()) {
        return matcher;
      }
    }
    throw new AssertionError("no line matching " + pattern + " in:\n" + seen);
  }

  private static void stop(Process process) throws InterruptedException {
    process.destroy();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
    }
  }
}
