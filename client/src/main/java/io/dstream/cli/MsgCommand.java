package io.dstream.cli;

import io.dstream.client.FileClient;
import io.dstream.client.StreamException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "msg", mixinStandardHelpOptions = true, description = "Single stored messages (admin API).",
    subcommands = MsgCommand.Get.class, footer = {"", "Example:", "  dstream msg get orders.eu 3"})
final class MsgCommand {

  @Command(name = "get", mixinStandardHelpOptions = true,
      description = {"Prints one stored message: its sequence, publish time and data, or with --json the whole",
          "stored record. Exits 5 if the subject or that message does not exist (never published, or deleted)."},
      footer = {"", "Example:", "  dstream msg get orders.eu 3 --json"})
  static final class Get implements Callable<Integer> {
    @Mixin
    CommonOptions common;

    @Parameters(index = "0", description = "Subject")
    String subject;

    @Parameters(index = "1", description = "Sequence")
    long sequence;

    @Override
    public Integer call() {
      if (sequence < 1) {
        throw new IllegalArgumentException("the sequence must be at least 1");
      }
      try (BrokerHttp broker = new BrokerHttp(common.clientOptions())) {
        JsonObject info = SubjectsCommand.lookUp(broker, subject);
        JsonArray page = broker.messages(subject, sequence, 1).getJsonArray("messages");
        JsonObject entry = page.isEmpty() ? null : page.getJsonObject(0);
        if (entry == null || entry.getLong("sequence") != sequence) {
          throw new StreamException(FileClient.NOT_FOUND, "no message " + sequence + " in "
              + subject + " (it holds " + info.getLong("firstSequence") + " to " + info.getLong("lastSequence") + ")");
        }
        JsonObject message = entry.getJsonObject("message");
        common.print(System.out, new JsonObject().put("subject", subject).put("sequence", sequence)
                .put("ts", entry.getLong("ts")).put("message", message),
            "sequence:  " + sequence + "\npublished: " + Instant.ofEpochMilli(entry.getLong("ts"))
                + "\ndata:      " + JsonArgs.text(message.containsKey("data") ? message.getValue("data") : message));
      }
      return ExitCode.OK;
    }
  }
}
