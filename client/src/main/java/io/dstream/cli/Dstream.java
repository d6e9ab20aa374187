package io.dstream.cli;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionException;
import java.util.logging.Level;
import java.util.logging.Logger;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * {@code java -jar dstream.jar}: the durable-stream command line (docs/cli.md). Every command takes
 * {@code --url}/{@code DSTREAM_URL}, {@code --nats-url}/{@code DSTREAM_NATS_URL}, {@code --api-key}/{@code DSTREAM_API_KEY},
 * {@code --json} and {@code --help}; exit codes are in {@link ExitCode}.
 */
@Command(name = "dstream", mixinStandardHelpOptions = true, version = "dstream " + Dstream.VERSION,
    description = "Command line for the durable-stream broker.",
    footer = {"", "Examples:", "  dstream context add local --url http://127.0.0.1:8787 --api-key \"$(cat data/api-key)\"",
        "  dstream pub orders.eu '{\"item\":\"book\"}'", "  dstream sub orders.eu --count 1", "  dstream sub 'orders.>'",
        "  dstream reply svc.echo 'echo: {{Request}}' &   dstream req svc.echo hi",
        "", "Exit codes: 0 ok, 1 failed, 2 usage, 3 credentials refused or not allowed, 4 broker unreachable, 5 not found,"
        + " 6 timed out."})
public final class Dstream {

  static final String VERSION = "0.1.0";

  /**
   * The commands, in the order help lists them. Registered programmatically rather than in the
   * annotation so that a run builds the model (by reflection) of the one command it runs: that is
   * a tenth of a second of a {@code dstream pub} (docs/cli.md, "Startup time").
   */
  private static final Map<String, Class<?>> COMMANDS = commands(PubCommand.class, SubCommand.class, ReqCommand.class,
      ReplyCommand.class, InfoCommand.class, StateCommand.class, RmCommand.class, SubjectsCommand.class,
      MsgCommand.class, ConsumerCommand.class, RetentionCommand.class, FilesCommand.class, ServerCommand.class,
      ContextCommand.class, ExportCommand.class, BenchCommand.class, TokenCommand.class, CompletionCommand.class);

  private Dstream() {
  }

  private static Map<String, Class<?>> commands(Class<?>... classes) {
    Map<String, Class<?>> byName = new LinkedHashMap<>();
    for (Class<?> command : classes) {
      byName.put(command.getAnnotation(Command.class).name(), command);
    }
    return byName;
  }

  /** @return the command line with every command, for help, completion and tests */
  static CommandLine commandLine() {
    return commandLine(COMMANDS.keySet());
  }

  /** @return the command line with just the command {@code args} name, or every command if they name none */
  static CommandLine commandLineFor(String[] args) {
    // Completion describes the whole tree; help and errors without a command list every command.
    boolean single = args.length > 0 && COMMANDS.containsKey(args[0]) && !args[0].equals("completion");
    return commandLine(single ? List.of(args[0]) : COMMANDS.keySet());
  }

  private static CommandLine commandLine(Collection<String> names) {
    CommandLine commandLine = new CommandLine(new Dstream());
    for (String name : names) {
      commandLine.addSubcommand(name, COMMANDS.get(name));
    }
    commandLine.setExecutionExceptionHandler((failure, line, parseResult) -> {
      Throwable cause = failure;
      while (cause instanceof CompletionException && cause.getCause() != null) {
        cause = cause.getCause();
      }
      line.getErr().println(ExitCode.describe(cause));
      return ExitCode.of(cause);
    });
    // Usage errors as one line too, pointing at the help that has an example.
    commandLine.setParameterExceptionHandler((failure, args) -> {
      CommandLine failed = failure.getCommandLine();
      failed.getErr().println("dstream: " + failure.getMessage() + "; see: " + failed.getCommandSpec().qualifiedName()
          + " --help");
      return ExitCode.USAGE;
    });
    return commandLine;
  }

  public static void main(String[] args) {
    // The libraries log through java.util.logging; the CLI reports failures itself.
    Logger.getLogger("").setLevel(Level.SEVERE);
    int code = commandLineFor(args).execute(args);
    System.out.flush();
    System.exit(code);
  }
}
