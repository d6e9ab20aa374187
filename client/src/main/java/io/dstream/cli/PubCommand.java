package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pub", mixinStandardHelpOptions = true,
    description = {"Publishes a message and prints its sequence.",
        "DATA that looks like JSON ({...}, [...], \"...\") must be valid JSON; numbers, true, false and null are JSON;",
        "other text is a string (--string: always a string). With - every line of stdin is one message.",
        "With --count N it publishes N messages; {{Count}} (1..N), {{TimeStamp}} (ISO-8601), {{Unix}} (epoch",
        "seconds) and {{ID}} (a random UUID) in DATA are replaced in each."},
    footer = {"", "Examples:", "  dstream pub orders.eu '{\"item\":\"book\",\"qty\":2}'",
        "  dstream pub orders.eu '{\"n\":{{Count}},\"at\":\"{{TimeStamp}}\"}' --count 3",
        "  printf '{\"n\":1}\\n{\"n\":2}\\n' | dstream pub orders.eu -"})
final class PubCommand implements Callable<Integer> {

  /** Messages handed to the client at once, so neither stdin nor --count is bounded by memory. */
  private static final int BATCH = 10_000;

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject, e.g. orders.eu")
  String subject;

  @Parameters(index = "1", description = "The message, or - to read one message per line from stdin.")
  String data;

  @Option(names = "--string", description = "Store DATA as a string even if it parses as JSON.")
  boolean asString;

  @Option(names = "--count", defaultValue = "1", description = "Publish DATA this many times, templates filled in (default 1).")
  long count;

  @Override
  public Integer call() throws Exception {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1");
    }
    if (data.equals("-") && count != 1) {
      throw new IllegalArgumentException("--count applies to DATA, not to stdin (-)");
    }
    if (!data.equals("-")) {
      // Parsed before connecting, so that bad JSON costs no connection and prints no sequence.
      message(1);
    }
    StreamConnection connection = common.connect(subject);
    try {
      if (data.equals("-")) {
        publishStdin(connection);
        return ExitCode.OK;
      }
      List<Object> batch = new ArrayList<>();
      for (long n = 1; n <= count; n++) {
        batch.add(message(n));
        if (batch.size() == BATCH || n == count) {
          print(CommonOptions.await(connection.publishAll(batch)));
          batch = new ArrayList<>();
        }
      }
      return ExitCode.OK;
    } finally {
      CommonOptions.await(connection.close());
    }
  }

  private void publishStdin(StreamConnection connection) throws Exception {
    BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    List<Object> batch = new ArrayList<>();
    String line;
    long lineNumber = 0;
    while ((line = reader.readLine()) != null) {
      lineNumber++;
      if (!line.isBlank()) {
        try {
          batch.add(JsonArgs.data(line, asString));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException("line " + lineNumber + " of stdin: " + e.getMessage(), e);
        }
      }
      if (batch.size() == BATCH) {
        print(CommonOptions.await(connection.publishAll(batch)));
        batch = new ArrayList<>();
      }
    }
    print(CommonOptions.await(connection.publishAll(batch)));
  }

  /** DATA with its templates filled in for message {@code n}, as the value to publish. */
  private Object message(long n) {
    String text = data;
    if (text.contains("{{")) {
      Instant now = Instant.now();
      text = text.replace("{{Count}}", Long.toString(n)).replace("{{TimeStamp}}", now.toString())
          .replace("{{Unix}}", Long.toString(now.getEpochSecond())).replace("{{ID}}", UUID.randomUUID().toString());
    }
    return JsonArgs.data(text, asString);
  }

  private void print(List<Long> sequences) {
    for (Long sequence : sequences) {
      common.print(System.out, new JsonObject().put("subject", subject).put("sequence", sequence), Long.toString(sequence));
    }
  }
}
