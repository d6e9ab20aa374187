package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.dstream.client.StreamInfo;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "rm", mixinStandardHelpOptions = true,
    description = "Deletes a subject's retained messages up to a sequence; sequences are never reused.",
    footer = {"", "Example:", "  dstream rm orders.eu --upto 2        # the whole subject: dstream subjects rm"})
final class RmCommand implements Callable<Integer> {

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject")
  String subject;

  @Option(names = "--upto", required = true, description = "Delete every message with a sequence up to this one.")
  long upTo;

  @Override
  public Integer call() {
    if (upTo < 0) {
      throw new IllegalArgumentException("--upto must not be negative");
    }
    StreamConnection connection = common.connect(subject);
    try {
      CommonOptions.await(connection.deleteMessages(upTo));
      StreamInfo info = CommonOptions.await(connection.info());
      common.print(System.out, new JsonObject().put("subject", subject).put("firstSequence", info.firstSequence())
              .put("lastSequence", info.lastSequence()).put("messages", info.messages()),
          "deleted up to " + upTo + "; " + info.messages() + " messages retained from sequence " + info.firstSequence());
      return ExitCode.OK;
    } finally {
      CommonOptions.await(connection.close());
    }
  }
}
