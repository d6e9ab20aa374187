package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.dstream.client.StreamException;
import io.dstream.client.StreamInfo;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Parameters;

@Command(name = "info", mixinStandardHelpOptions = true, description = "Prints a subject's sequences, counts, size and subscribers.",
    footer = {"", "Example:", "  dstream info orders.eu --json"})
final class InfoCommand implements Callable<Integer> {

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject")
  String subject;

  /** The lines every description of a subject starts with. */
  static String describe(String subject, long firstSequence, long lastSequence, long messages, long bytes) {
    return "subject:        " + subject
        + "\nfirst sequence: " + firstSequence
        + "\nlast sequence:  " + lastSequence
        + "\nmessages:       " + messages
        + "\nbytes:          " + bytes;
  }

  @Override
  public Integer call() {
    StreamConnection connection = common.connect(subject);
    try {
      StreamInfo info = CommonOptions.await(connection.info());
      // The last sequence never goes back, so 0 means nothing was ever published (reads create no subject).
      if (info.lastSequence() == 0) {
        throw new StreamException(ExitCode.UNKNOWN_SUBJECT, "no subject '" + subject
            + "': nothing was ever published to it (dstream subjects ls lists the subjects)");
      }
      JsonObject json = new JsonObject().put("subject", subject).put("firstSequence", info.firstSequence())
          .put("lastSequence", info.lastSequence()).put("messages", info.messages()).put("bytes", info.bytes())
          .put("subscribers", info.subscribers());
      common.print(System.out, json, describe(subject, info.firstSequence(), info.lastSequence(), info.messages(),
          info.bytes()) + "\nsubscribers:    " + info.subscribers());
      return ExitCode.OK;
    } finally {
      CommonOptions.await(connection.close());
    }
  }
}
