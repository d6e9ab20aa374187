package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
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

  /** Lines of stdin read before they are published. */
  private static final int STDIN_BATCH = 10_000;

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
    StreamConnection connection = common.connect(subject);
    try {
      if (!data.equals("-")) {
        print(CommonOptions.await(connection.publishAll(List.of(JsonArgs.data(data, asString)))));
        return ExitCode.OK;
      }
      // Stdin is published in batches, so its size is not bounded by memory.
      BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
      List<Object> batch = new ArrayList<>();
      String line;
      while ((line = reader.readLine()) != null) {
        if (!line.isBlank()) {
          batch.add(JsonArgs.data(line, asString));
        }
        if (batch.size() == STDIN_BATCH) {
          print(CommonOptions.await(connection.publishAll(batch)));
          batch = new ArrayList<>();
        }
      }
      print(CommonOptions.await(connection.publishAll(batch)));
      return ExitCode.OK;
    } finally {
      CommonOptions.await(connection.close());
    }
  }

  private void print(List<Long> sequences) {
    for (Long sequence : sequences) {
      common.print(System.out, new JsonObject().put("subject", subject).put("sequence", sequence), Long.toString(sequence));
    }
  }
}
