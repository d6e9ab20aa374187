package io.dstream.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * The {@code java} blocks of a Markdown file, run as one program, in order, as a reader would paste them: their
 * {@code import} lines gathered at the top, every other line in one {@code main} method, so variables carry over
 * from block to block. A line {@code System.out.println(...); // -> TEXT} says what it prints ({@code ...} for any
 * text); the program must print exactly those lines, in that order, and exit 0. {@code 8787} and {@code 4222} in
 * the code are replaced by the test broker's HTTP and NATS ports, and the other way round in what it prints. The
 * program runs in a JVM of its own ({@code java File.java}, the source launcher) on the test class path, with the
 * environment the test gives it.
 */
final class JavaExamples {

  /** A line the docs say the program prints, and where they say it. */
  record Expected(int line, String text) {
  }

  /** The program of a file's blocks, and what it must print. */
  record Program(String file, String source, List<Expected> expected) {
  }

  /** What a run printed (stdout) and its exit status, with stderr for the report. */
  record Outcome(Program program, List<String> printed, String errors, int status) {
    /** @return empty when the run printed what the docs say, else what differs */
    String mismatches() {
      StringBuilder wrong = new StringBuilder();
      if (status != 0) {
        wrong.append(program.file()).append(": the examples exited with ").append(status).append(":\n").append(errors)
            .append("\nprogram:\n").append(numbered(program.source()));
      }
      List<Expected> expected = program.expected();
      for (int i = 0; i < Math.max(expected.size(), printed.size()); i++) {
        String want = i < expected.size() ? expected.get(i).text() : "(nothing)";
        String got = i < printed.size() ? printed.get(i) : "(nothing)";
        if (i >= expected.size() || i >= printed.size() || !ConsoleExamples.pattern(want).matcher(got).matches()) {
          wrong.append(program.file()).append(i < expected.size() ? ":" + expected.get(i).line() : "")
              .append(": expected ").append(want).append("\n  printed ").append(got).append('\n');
        }
      }
      return wrong.toString();
    }
  }

  private static final String PRINTS = "// -> ";
  private static final long LIMIT_SECONDS = 180;

  private JavaExamples() {
  }

  /** @return the program of every {@code java} block of {@code markdown}, with the test broker's ports */
  static Program parse(Path markdown, int httpPort, int natsPort) throws IOException {
    List<String> lines = Files.readAllLines(markdown, StandardCharsets.UTF_8);
    DocPorts ports = new DocPorts(httpPort, natsPort);
    TreeSet<String> imports = new TreeSet<>();
    StringBuilder body = new StringBuilder();
    List<Expected> expected = new ArrayList<>();
    boolean inJava = false;
    boolean inOther = false;
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (line.startsWith("```")) {
        boolean opening = !inJava && !inOther;
        inJava = opening && line.strip().equals("```java");
        inOther = opening && !inJava;
        continue;
      }
      if (!inJava) {
        continue;
      }
      if (line.startsWith("import ")) {
        imports.add(line.strip());
        continue;
      }
      int prints = line.indexOf(PRINTS);
      if (line.contains("System.out.println(") && prints >= 0) {
        expected.add(new Expected(i + 1, line.substring(prints + PRINTS.length()).strip()));
      }
      body.append("    ").append(ports.toTest(line)).append('\n');
    }
    String source = String.join("\n", imports) + "\n\npublic class DocsExamples {\n"
        + "  public static void main(String[] args) throws Exception {\n" + body + "  }\n}\n";
    return new Program(markdown.getFileName().toString(), source, expected);
  }

  /** Runs the program in its own JVM in {@code workDir}, with {@code env} added to a clean environment. */
  static Outcome run(Program program, Path workDir, int httpPort, int natsPort, Map<String, String> env)
      throws IOException, InterruptedException {
    Path source = workDir.resolve("DocsExamples.java");
    Files.writeString(source, program.source(), StandardCharsets.UTF_8);
    Path out = Files.createTempFile(workDir, "examples", ".out");
    Path err = Files.createTempFile(workDir, "examples", ".err");
    ProcessBuilder builder = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        "-cp", System.getProperty("java.class.path"), source.toString()).directory(workDir.toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("DSTREAM_"));
    builder.environment().putAll(env);
    Process java = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
    try {
      if (!java.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError("the examples of " + program.file() + " did not finish within " + LIMIT_SECONDS
            + " s; they printed:\n" + Files.readString(out) + Files.readString(err));
      }
      List<String> printed = Files.readAllLines(out, StandardCharsets.UTF_8).stream()
          .map(new DocPorts(httpPort, natsPort)::toDocs)
          .toList();
      return new Outcome(program, printed, Files.readString(err), java.exitValue());
    } finally {
      java.destroyForcibly();
    }
  }

  private static String numbered(String source) {
    String[] lines = source.split("\n", -1);
    StringBuilder numbered = new StringBuilder();
    for (int i = 0; i < lines.length; i++) {
      numbered.append(String.format("%4d  %s%n", i + 1, lines[i]));
    }
    return numbered.toString();
  }
}
