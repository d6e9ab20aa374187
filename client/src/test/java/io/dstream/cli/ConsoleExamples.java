package io.dstream.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * The {@code console} blocks of a Markdown file, run as a user would type them. In such a block a
 * line {@code $ COMMAND} is a command and the lines up to the next command are what it prints
 * (stdout and stderr together); in an expected line {@code ...} stands for any text. Every block
 * of a file runs, in order, in one bash session (so aliases, variables and files carry over), in
 * {@code workDir}, with {@code 8787} and {@code 4222} in commands and output replaced by the test broker's HTTP and
 * NATS ports.
 * A command must exit 0 unless its expected output ends with an error line ({@code dstream: ...}).
 * Blocks of any other language are not run.
 */
final class ConsoleExamples {

  /** One command of a block and what the docs say it prints. */
  record Example(String source, int line, String command, List<String> expected) {
  }

  /** What a command printed and its exit status. */
  record Outcome(Example example, List<String> printed, int status) {
    boolean matches() {
      // A command that fails must show it: its expected output ends with the CLI's error line.
      boolean failureShown = !example.expected().isEmpty()
          && example.expected().get(example.expected().size() - 1).startsWith("dstream: ");
      if (status != 0 && !failureShown || printed.size() != example.expected().size()) {
        return false;
      }
      for (int i = 0; i < printed.size(); i++) {
        if (!pattern(example.expected().get(i)).matcher(printed.get(i)).matches()) {
          return false;
        }
      }
      return true;
    }

    String describe() {
      return example.source() + ":" + example.line() + ": $ " + example.command() + "\n  expected:\n    "
          + String.join("\n    ", example.expected()) + "\n  printed (exit " + status + "):\n    "
          + String.join("\n    ", printed);
    }
  }

  private static final String MARK = "@@dstream-example@@";
  private static final long LIMIT_SECONDS = 300;

  private ConsoleExamples() {
  }

  /** @return the examples of every {@code console} block of {@code markdown}, in order */
  static List<Example> parse(Path markdown) throws IOException {
    List<Example> examples = new ArrayList<>();
    List<String> lines = Files.readAllLines(markdown, StandardCharsets.UTF_8);
    boolean inConsole = false;
    boolean inOther = false;
    String command = null;
    int commandLine = 0;
    List<String> expected = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i);
      if (!inConsole && !inOther && line.startsWith("```")) {
        inConsole = line.strip().equals("```console");
        inOther = !inConsole;
        continue;
      }
      if (line.startsWith("```")) {
        if (command != null) {
          examples.add(new Example(markdown.getFileName().toString(), commandLine, command, expected));
        }
        command = null;
        expected = new ArrayList<>();
        inConsole = false;
        inOther = false;
        continue;
      }
      if (!inConsole) {
        continue;
      }
      if (line.startsWith("$ ")) {
        if (command != null) {
          examples.add(new Example(markdown.getFileName().toString(), commandLine, command, expected));
        }
        command = line.substring(2);
        commandLine = i + 1;
        expected = new ArrayList<>();
      } else {
        expected.add(line);
      }
    }
    return examples;
  }

  /** Runs the examples in one bash session and returns what each printed. */
  static List<Outcome> run(List<Example> examples, Path workDir, int port, int natsPort, Map<String, String> env)
      throws IOException, InterruptedException {
    DocPorts ports = new DocPorts(port, natsPort);
    StringBuilder script = new StringBuilder("shopt -s expand_aliases\n");
    for (Example example : examples) {
      // Each command on lines of its own (an alias takes effect from the next line), its output and status marked.
      script.append(ports.toTest(example.command()))
          .append(" 2>&1\n")
          .append("echo \"").append(MARK).append(" $?\"\n");
    }
    ProcessBuilder builder = new ProcessBuilder("bash", "--norc", "--noprofile").directory(workDir.toFile());
    builder.environment().keySet().removeIf(name -> name.startsWith("DSTREAM_"));
    builder.environment().putAll(env);
    builder.redirectErrorStream(true);
    Path output = Files.createTempFile("examples", ".out");
    builder.redirectOutput(output.toFile());
    Process bash = builder.start();
    try {
      try (var in = bash.getOutputStream()) {
        in.write(script.toString().getBytes(StandardCharsets.UTF_8));
      }
      if (!bash.waitFor(LIMIT_SECONDS, TimeUnit.SECONDS)) {
        throw new AssertionError("the examples did not finish within " + LIMIT_SECONDS + " s");
      }
      return outcomes(examples, Files.readAllLines(output, StandardCharsets.UTF_8), ports);
    } finally {
      bash.destroyForcibly();
      Files.deleteIfExists(output);
    }
  }

  private static List<Outcome> outcomes(List<Example> examples, List<String> lines, DocPorts ports) {
    List<Outcome> outcomes = new ArrayList<>();
    List<String> printed = new ArrayList<>();
    for (String line : lines) {
      int mark = line.indexOf(MARK);
      if (mark >= 0) {
        // Output without a final newline shares its last line with the mark.
        if (mark > 0) {
          printed.add(line.substring(0, mark));
        }
        Example example = examples.get(outcomes.size());
        outcomes.add(new Outcome(example, printed.stream().map(ports::toDocs).toList(),
            Integer.parseInt(line.substring(mark + MARK.length()).strip())));
        printed = new ArrayList<>();
      } else {
        printed.add(line);
      }
    }
    return outcomes;
  }

  /** An expected line as a pattern: literal text, {@code ...} for any text. */
  static Pattern pattern(String expected) {
    String[] parts = expected.split("\\.\\.\\.", -1);
    StringBuilder regex = new StringBuilder();
    for (int i = 0; i < parts.length; i++) {
      regex.append(i == 0 ? "" : ".*").append(Pattern.quote(parts[i]));
    }
    return Pattern.compile(regex.toString());
  }
}
