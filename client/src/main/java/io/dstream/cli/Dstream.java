package io.dstream.cli;

import java.util.concurrent.CompletionException;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar dstream.jar}: the durable-stream command line (docs/cli.md). Every command takes
 * {@code --url}/{@code DSTREAM_URL}, {@code --api-key}/{@code DSTREAM_API_KEY}, {@code --json} and
 * {@code --help}; exit codes are in {@link ExitCode}.
 */
@Command(name = "dstream", mixinStandardHelpOptions = true, version = "dstream 0.1.0",
    description = "Command line for the durable-stream broker.",
    subcommands = {PubCommand.class, SubCommand.class, InfoCommand.class, StateCommand.class, RmCommand.class,
        SubjectsCommand.class, FilesCommand.class, ExportCommand.class, BenchCommand.class,
        TokenCommand.class},
    footer = {"", "Exit codes: 0 ok, 1 failed, 2 usage, 3 credentials refused or not allowed, 4 broker unreachable, 5 not found,"
        + " 6 timed out."})
public final class Dstream {

  private Dstream() {
  }

  /** @return the configured command line, for {@link #main} and for tests */
  static CommandLine commandLine() {
    CommandLine commandLine = new CommandLine(new Dstream());
    commandLine.setExecutionExceptionHandler((failure, line, parseResult) -> {
      Throwable cause = failure;
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      line.getErr().println("dstream: " + (cause.getMessage() == null ? cause.toString() : cause.getMessage()));
      return ExitCode.of(cause);
    });
    return commandLine;
  }

  public static void main(String[] args) {
    // The libraries log through java.util.logging; the CLI reports failures itself.
    Logger.getLogger("").setLevel(Level.SEVERE);
    int code = commandLine().execute(args);
    System.out.flush();
    System.exit(code);
  }
}
