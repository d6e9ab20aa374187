package io.dstream.cli;

import io.nats.client.Message;
import io.nats.client.Subscription;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "reply", mixinStandardHelpOptions = true,
    description = {"Serves NATS requests: answers each with ANSWER and prints the request (SUBJECT<TAB>DATA, DATA alone",
        "with --raw, or {\"subject\",\"data\",\"headers\"} with --json), until --count requests or Ctrl-C.",
        "{{Request}} in ANSWER is the request's data, {{Count}} its number (1, 2, ...), {{TimeStamp}} the time.",
        "Serve an ephemeral subject (the broker's DSTREAM_NATS_EPHEMERAL, default _INBOX.>, $SRV.> and svc.>):",
        "requests to a stored subject are answered by the broker's PubAck before this answer arrives."},
    footer = {"", "Examples:", "  dstream reply svc.echo 'echo: {{Request}}'",
        "  dstream reply 'svc.price.*' '{\"price\":12}' --queue pricing --count 100"})
final class ReplyCommand implements Callable<Integer> {

  /** How long one wait for a request lasts; the loop then checks the connection again. */
  private static final Duration WAIT = Duration.ofSeconds(1);

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject or pattern to serve, e.g. svc.echo")
  String subject;

  @Parameters(index = "1", description = "The answer; {{Request}}, {{Count}} and {{TimeStamp}} are filled in.")
  String answer;

  @Option(names = "--queue", paramLabel = "GROUP", description = "Join this queue group: each request goes to one of"
      + " its members.")
  String queue;

  @Option(names = "--count", description = "Exit after answering this many requests.")
  Long count;

  @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'",
      description = "A header of every answer (repeatable).")
  List<String> headers = new ArrayList<>();

  @Option(names = "--raw", description = "Print only each request's data.")
  boolean raw;

  @Override
  public Integer call() {
    long wanted = count == null ? Long.MAX_VALUE : count;
    if (wanted < 1) {
      throw new IllegalArgumentException("--count must be at least 1");
    }
    NatsMessages.headers(headers);
    try (NatsSession nats = common.nats()) {
      Subscription subscription = nats.subscribe(subject, queue);
      long served = 0;
      while (served < wanted) {
        Message request = nats.next(subscription, WAIT);
        if (request == null) {
          continue;
        }
        System.out.println(NatsMessages.line(request, raw, common.json));
        if (request.getReplyTo() == null) {
          // A plain publish to the subject: nobody to answer, so it does not count as served.
          continue;
        }
        served++;
        // The request's own text last, so that braces in it are never read as templates.
        String text = answer.replace("{{Count}}", Long.toString(served))
            .replace("{{TimeStamp}}", Instant.now().toString()).replace("{{Request}}", NatsMessages.text(request));
        nats.connection().publish(NatsMessage.builder().subject(request.getReplyTo())
            .headers(NatsMessages.headers(headers)).data(text.getBytes(StandardCharsets.UTF_8)).build());
      }
      // The last answer leaves before the connection closes.
      nats.flush();
      return ExitCode.OK;
    } finally {
      System.out.flush();
    }
  }
}
