package io.dstream.cli;

import io.dstream.client.StreamException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.Console;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "subjects", mixinStandardHelpOptions = true,
    description = "Subjects through the admin API (the API key or an admin token): list, inspect, delete.",
    subcommands = {SubjectsCommand.Ls.class, SubjectsCommand.Info.class, SubjectsCommand.Rm.class},
    footer = {"", "Examples:", "  dstream subjects ls 'orders.>'", "  dstream subjects info orders.eu",
        "  dstream subjects rm orders.eu --force"})
final class SubjectsCommand {

  /** The admin API's answer for a subject that does not exist, as the CLI reports it (exit 5). */
  static StreamException unknown(String subject, StreamException cause) {
    return new StreamException(ExitCode.UNKNOWN_SUBJECT, "no subject '" + subject
        + "' on this broker (dstream subjects ls lists them)", cause);
  }

  /** Runs an admin call about one subject, turning its 404 into {@link #unknown}. */
  static JsonObject lookUp(BrokerHttp admin, String subject) {
    try {
      return admin.subject(subject);
    } catch (StreamException e) {
      throw e.code().equals("not_found") ? unknown(subject, e) : e;
    }
  }

  @Command(name = "ls", mixinStandardHelpOptions = true,
      description = "Lists subjects with their sequences, counts and sizes.",
      footer = {"", "Example:", "  dstream subjects ls 'orders.>'     # * is one token, a final > one or more"})
  static final class Ls implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", arity = "0..1", description = "Only subjects matching this pattern (* one token, > the rest).")
    String pattern;

    @Override
    public Integer call() {
      SubjectPattern filter = pattern == null ? null : new SubjectPattern(pattern);
      boolean header = !common.json;
      try (BrokerHttp admin = new BrokerHttp(common.clientOptions())) {
        String cursor = null;
        do {
          JsonObject page = admin.subjects(cursor, BrokerHttp.MAX_PAGE);
          // The header only once the broker answered, so that an error is never preceded by it.
          if (header) {
            System.out.printf("%-40s %12s %12s %10s %12s%n", "SUBJECT", "FIRST", "LAST", "MESSAGES", "BYTES");
            header = false;
          }
          JsonArray subjects = page.getJsonArray("subjects");
          for (int i = 0; i < subjects.size(); i++) {
            JsonObject subject = subjects.getJsonObject(i);
            if (filter == null || filter.matches(subject.getString("subject"))) {
              common.print(System.out, subject, String.format("%-40s %12d %12d %10d %12d", subject.getString("subject"),
                  subject.getLong("firstSequence"), subject.getLong("lastSequence"), subject.getLong("messages"),
                  subject.getLong("bytes")));
            }
          }
          cursor = page.getBoolean("truncated") ? page.getString("cursor") : null;
        } while (cursor != null);
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "info", mixinStandardHelpOptions = true, description = "Prints a subject's sequences, size and state.",
      footer = {"", "Example:", "  dstream subjects info orders.eu --json"})
  static final class Info implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject")
    String subject;

    @Override
    public Integer call() {
      try (BrokerHttp admin = new BrokerHttp(common.clientOptions())) {
        JsonObject info = lookUp(admin, subject);
        common.print(System.out, info, InfoCommand.describe(subject, info.getLong("firstSequence"),
            info.getLong("lastSequence"), info.getLong("messages"), info.getLong("bytes"))
            + "\nstate:          " + info.getJsonObject("state", new JsonObject()).encode());
      }
      return ExitCode.OK;
    }
  }

  @Command(name = "rm", mixinStandardHelpOptions = true,
      description = {"Deletes a subject for good: its messages, state and checkpoints. A later publish starts it",
          "again from sequence 1. Asks for confirmation on a terminal; elsewhere it needs --force."},
      footer = {"", "Example:", "  dstream subjects rm orders.eu --force"})
  static final class Rm implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject")
    String subject;

    @Option(names = {"-f", "--force"}, description = "Delete without asking.")
    boolean force;

    @Override
    public Integer call() {
      try (BrokerHttp admin = new BrokerHttp(common.clientOptions())) {
        JsonObject info = lookUp(admin, subject);
        if (!force && !confirmed(info)) {
          System.err.println("dstream: " + subject + " not deleted");
          return ExitCode.FAILED;
        }
        admin.destroy(subject);
        common.print(System.out, new JsonObject().put("subject", subject).put("deleted", true),
            "deleted " + subject + " (" + info.getLong("messages") + " messages)");
      }
      return ExitCode.OK;
    }

    private boolean confirmed(JsonObject info) {
      Console console = System.console();
      if (console == null) {
        throw new IllegalArgumentException("not on a terminal: add --force to delete " + subject);
      }
      String answer = console.readLine("delete %s and its %d messages for good? [y/N] ", subject, info.getLong("messages"));
      return answer != null && answer.strip().toLowerCase(Locale.ROOT).startsWith("y");
    }
  }
}
