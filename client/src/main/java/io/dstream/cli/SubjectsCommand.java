package io.dstream.cli;

import io.dstream.pattern.TokenPattern;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "subjects", mixinStandardHelpOptions = true,
    description = "Lists every subject with its first and last sequence (admin API).")
final class SubjectsCommand implements Callable<Integer> {

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", arity = "0..1", description = "Only subjects matching this pattern (* one token, > the rest).")
  String pattern;

  @Override
  public Integer call() {
    TokenPattern filter = pattern == null ? null : TokenPattern.subjects(pattern);
    if (!common.json) {
      System.out.printf("%-40s %12s %12s %10s %12s%n", "SUBJECT", "FIRST", "LAST", "MESSAGES", "BYTES");
    }
    try (AdminHttp admin = new AdminHttp(common.clientOptions())) {
      String cursor = null;
      do {
        JsonObject page = admin.subjects(cursor, AdminHttp.MAX_PAGE);
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
