package io.dstream.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "export", mixinStandardHelpOptions = true,
    description = {"Copies every subject's messages and state into one SQLite file, incrementally:",
        "a later run into the same file fetches only messages after each subject's high-water mark,",
        "and a state only when it changed."},
    footer = {"", "Example:", "  dstream export --sqlite system.db --subjects 'orders.>'"})
final class ExportCommand implements Callable<Integer> {

  /** Messages per admin request. */
  private static final int PAGE = 1000;

  @Mixin
  CommonOptions common;

  @Option(names = "--sqlite", required = true, description = "The SQLite file (created if missing).")
  Path file;

  @Option(names = "--subjects", description = "Only subjects matching this pattern (* one token, > the rest).")
  String pattern;

  @Override
  public Integer call() throws Exception {
    SubjectPattern filter = pattern == null ? null : new SubjectPattern(pattern);
    try (BrokerHttp admin = new BrokerHttp(common.clientOptions())) {
      // Listed before the file is opened: a wrong key or an unreachable broker creates no database.
      List<JsonObject> subjects = listSubjects(admin, filter);
      return export(admin, subjects);
    }
  }

  private int export(BrokerHttp admin, List<JsonObject> subjects) throws Exception {
    long messages = 0;
    int changedSubjects = 0;
    int states = 0;
    try (SqliteExport export = new SqliteExport(file)) {
      List<SqliteExport.Mark> marks = new ArrayList<>();
      long total = 0;
      for (JsonObject subject : subjects) {
        SqliteExport.Mark mark = export.mark(subject.getString("subject"));
        marks.add(mark);
        total += Math.max(0, subject.getLong("lastSequence") - Math.max(mark.exportedSequence(),
            subject.getLong("firstSequence") - 1));
      }
      ProgressBar progress = new ProgressBar("export", common.json, false);
      for (int i = 0; i < subjects.size(); i++) {
        JsonObject subject = subjects.get(i);
        SqliteExport.Mark mark = marks.get(i);
        export.subject(subject);
        long copied = copyMessages(admin, export, subject, mark.exportedSequence(), messages, total, progress);
        messages += copied;
        long crc = subject.getLong("stateCrc32");
        boolean stateChanged = mark.stateCrc32() == null || mark.stateCrc32() != crc;
        if (stateChanged) {
          JsonObject detail = admin.subject(subject.getString("subject"));
          export.state(subject.getString("subject"), detail.getJsonObject("state", new JsonObject()), crc);
          states++;
        }
        if (copied > 0 || stateChanged) {
          changedSubjects++;
        }
      }
      progress.finish();
      JsonObject summary = new JsonObject().put("file", file.toString()).put("subjects", subjects.size())
          .put("changedSubjects", changedSubjects).put("messages", messages).put("states", states);
      common.print(System.out, summary, "exported " + messages + " new messages and " + states + " states from "
          + changedSubjects + " of " + subjects.size() + " subjects to " + file);
    }
    return ExitCode.OK;
  }

  private static List<JsonObject> listSubjects(BrokerHttp admin, SubjectPattern filter) {
    List<JsonObject> subjects = new ArrayList<>();
    String cursor = null;
    do {
      JsonObject page = admin.subjects(cursor, BrokerHttp.MAX_PAGE);
      JsonArray listed = page.getJsonArray("subjects");
      for (int i = 0; i < listed.size(); i++) {
        JsonObject subject = listed.getJsonObject(i);
        if (filter == null || filter.matches(subject.getString("subject"))) {
          subjects.add(subject);
        }
      }
      cursor = page.getBoolean("truncated") ? page.getString("cursor") : null;
    } while (cursor != null);
    return subjects;
  }

  /** Copies the messages after {@code exportedSequence}, page by page; @return how many. */
  private static long copyMessages(BrokerHttp admin, SqliteExport export, JsonObject subject, long exportedSequence,
      long doneBefore, long total, ProgressBar progress) throws Exception {
    String name = subject.getString("subject");
    long last = subject.getLong("lastSequence");
    long from = Math.max(exportedSequence + 1, subject.getLong("firstSequence"));
    long copied = 0;
    while (from <= last) {
      JsonObject page = admin.messages(name, from, PAGE);
      JsonArray entries = page.getJsonArray("messages");
      JsonArray wanted = new JsonArray();
      for (int i = 0; i < entries.size(); i++) {
        if (entries.getJsonObject(i).getLong("sequence") <= last) {
          wanted.add(entries.getJsonObject(i));
        }
      }
      long next = page.getLong("next");
      // An empty page means nothing is retained from 'from' on: the subject is complete up to its last sequence.
      long mark = wanted.isEmpty() ? last : Math.min(last, next - 1);
      export.messages(name, wanted, mark);
      copied += wanted.size();
      progress.update(doneBefore + copied, total);
      if (wanted.isEmpty()) {
        break;
      }
      from = mark + 1;
    }
    return copied;
  }
}
