package io.dstream.cli;

import io.dstream.client.StreamException;
import io.nats.client.JetStream;
import io.nats.client.api.PublishAck;
import io.nats.client.impl.Headers;
import io.nats.client.impl.NatsMessage;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "pub", mixinStandardHelpOptions = true,
    description = {"Publishes a message over NATS and prints its sequence, from the broker's PubAck once it is durable.",
        "The payload is DATA's text. DATA that looks like JSON ({...}, [...], \"...\") must be valid JSON (--string:",
        "publish it unchecked). With - every line of stdin is one message. With --count N it publishes N messages;",
        "{{Count}} (1..N), {{TimeStamp}} (ISO-8601), {{Unix}} (epoch seconds) and {{ID}} (a random UUID) in DATA and",
        "in header values are replaced in each. -H adds a NATS header, e.g. Nats-Msg-Id: a repeat within the broker's",
        "dedup window is stored once and answers the first one's sequence."},
    footer = {"", "Examples:", "  dstream pub orders.eu '{\"item\":\"book\",\"qty\":2}'",
        "  dstream pub orders.eu '{\"n\":{{Count}},\"at\":\"{{TimeStamp}}\"}' --count 3",
        "  dstream pub orders.eu '{\"id\":42}' -H 'Nats-Msg-Id: order-42' -H 'Origin: shop'",
        "  printf '{\"n\":1}\\n{\"n\":2}\\n' | dstream pub orders.eu -"})
final class PubCommand implements Callable<Integer> {

  /** A publish to a subject the broker does not store, which nothing answered. */
  private static final String NOT_STORED = "not_stored";
  /** Lines of stdin checked before any of them is sent. */
  private static final int STDIN_BATCH = 10_000;

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject, e.g. orders.eu")
  String subject;

  @Parameters(index = "1", description = "The message, or - to read one message per line from stdin.")
  String data;

  @Option(names = "--string", description = "Publish DATA as it is, even if it looks like JSON but is not.")
  boolean asString;

  @Option(names = "--count", defaultValue = "1", description = "Publish DATA this many times, templates filled in (default 1).")
  long count;

  @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", description = "A NATS header (repeatable).")
  List<String> headers = new ArrayList<>();

  private NatsSession nats;
  private JetStream jetStream;
  /** PubAcks not printed yet, in publish order: at most the client's publish window. */
  private final Deque<CompletableFuture<PublishAck>> pending = new ArrayDeque<>();

  @Override
  public Integer call() throws Exception {
    if (count < 1) {
      throw new IllegalArgumentException("--count must be at least 1");
    }
    if (data.equals("-") && count != 1) {
      throw new IllegalArgumentException("--count applies to DATA, not to stdin (-)");
    }
    // Checked before connecting, so that bad JSON or a bad header costs no connection and prints no sequence.
    NatsMessages.headers(headers);
    if (!data.equals("-")) {
      checked(fill(data, 1), null);
    }
    try (NatsSession session = common.nats()) {
      nats = session;
      jetStream = session.jetStream();
      if (data.equals("-")) {
        publishStdin();
      } else {
        for (long n = 1; n <= count; n++) {
          publish(checked(fill(data, n), null), n);
        }
      }
      while (!pending.isEmpty()) {
        printNext();
      }
      return ExitCode.OK;
    }
  }

  /**
   * Publishes stdin's lines a batch at a time, each batch checked whole first: a bad line fails before any line of
   * its batch is sent, and stdin is never held in memory.
   */
  private void publishStdin() throws Exception {
    BufferedReader reader = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    List<String> batch = new ArrayList<>();
    String line;
    long lineNumber = 0;
    while ((line = reader.readLine()) != null) {
      lineNumber++;
      if (!line.isBlank()) {
        batch.add(checked(line, "line " + lineNumber + " of stdin"));
      }
      if (batch.size() == STDIN_BATCH) {
        batch.forEach(payload -> publish(payload, 1));
        batch.clear();
      }
    }
    batch.forEach(payload -> publish(payload, 1));
  }

  /** Sends one message without waiting for its PubAck, once fewer than the publish window are waiting. */
  private void publish(String payload, long n) {
    while (pending.size() >= common.clientOptions().publishWindow()) {
      printNext();
    }
    List<String> filled = headers.stream().map(header -> fill(header, n)).toList();
    Headers natsHeaders = NatsMessages.headers(filled);
    pending.add(jetStream.publishAsync(NatsMessage.builder().subject(subject).headers(natsHeaders)
        .data(payload.getBytes(StandardCharsets.UTF_8)).build()));
    // A refused publish (-ERR) gets no PubAck: stop sending rather than fill the window first.
    nats.check();
  }

  private void printNext() {
    PublishAck ack;
    try {
      ack = nats.await(pending.poll(), "publish to " + subject);
    } catch (StreamException e) {
      if (e.code().equals(NatsSession.NO_RESPONDERS)) {
        throw new StreamException(NOT_STORED, "publish to " + subject + " got no PubAck: the broker does not store that"
            + " subject (it is ephemeral: DSTREAM_NATS_EPHEMERAL) and nothing subscribes to it", e);
      }
      throw e;
    }
    common.print(System.out, new JsonObject().put("subject", subject).put("stream", ack.getStream())
        .put("sequence", ack.getSeqno()).put("duplicate", ack.isDuplicate()), Long.toString(ack.getSeqno()));
  }

  /**
   * @param where where the text came from, to prefix the error with, or null
   * @return {@code text}, after checking that text which looks like JSON is JSON (unless --string)
   */
  private String checked(String text, String where) {
    if (!asString) {
      try {
        JsonArgs.data(text, false);
      } catch (IllegalArgumentException e) {
        throw where == null ? e : new IllegalArgumentException(where + ": " + e.getMessage(), e);
      }
    }
    return text;
  }

  /** {@code text} with its templates filled in for message {@code n}. */
  private static String fill(String text, long n) {
    if (!text.contains("{{")) {
      return text;
    }
    Instant now = Instant.now();
    return text.replace("{{Count}}", Long.toString(n)).replace("{{TimeStamp}}", now.toString())
        .replace("{{Unix}}", Long.toString(now.getEpochSecond())).replace("{{ID}}", UUID.randomUUID().toString());
  }
}
