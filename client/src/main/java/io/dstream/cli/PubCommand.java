package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.vertx.core.json.JsonObject;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pub", mixinStandardHelpOptions = true,
    description = {"Publishes a message and prints its sequence.",
        "DATA is stored as JSON if it parses as JSON, else as a string. With - every line of stdin is one message."})
final class PubCommand implements Callable<Integer> {

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject, e.g. orders.eu")
  String subject;

  @Parameters(index = "1", description = "The message, or - to read one message per line from stdin.")
  String data;

  @Option(names = "--string", description = "Store DATA as a string even if it parses as JSON.")
  boolean asString;

  @Override
  public Integer call() throws Exception {
    List<Object> messages = data.equals("-") ? JsonArgs.stdinLines(asString) : List.of(JsonArgs.data(data, asString));
    StreamConnection connection = common.connect(subject);
    try {
      List<Long> sequences = CommonOptions.await(connection.publishAll(messages));
      for (Long sequence : sequences) {
        common.print(System.out, new JsonObject().put("subject", subject).put("sequence", sequence),
            Long.toString(sequence));
      }
      return ExitCode.OK;
    } finally {
      CommonOptions.await(connection.close());
    }
  }
}
