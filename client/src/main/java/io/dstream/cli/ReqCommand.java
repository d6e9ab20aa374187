package io.dstream.cli;

import io.nats.client.Message;
import io.nats.client.impl.NatsMessage;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "req", mixinStandardHelpOptions = true,
    description = {"Sends a NATS request and prints the reply's data (with --json: {\"subject\",\"data\",\"headers\"}).",
        "A service answers on an ephemeral subject (the broker's DSTREAM_NATS_EPHEMERAL, e.g. svc.>); a request to a",
        "stored subject is stored and answered by the broker's PubAck. Nothing subscribed: exit 5 (no responders);",
        "no reply within --timeout-ms: exit 6."},
    footer = {"", "Examples:", "  dstream req svc.echo 'hello'",
        "  dstream req svc.price '{\"item\":\"book\"}' -H 'Currency: EUR'"})
final class ReqCommand implements Callable<Integer> {

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject, e.g. svc.echo")
  String subject;

  @Parameters(index = "1", arity = "0..1", description = "The request's data (default: empty).")
  String data = "";

  @Option(names = {"-H", "--header"}, paramLabel = "'NAME: VALUE'", description = "A NATS header (repeatable).")
  List<String> headers = new ArrayList<>();

  @Override
  public Integer call() {
    NatsMessage request = NatsMessage.builder().subject(subject).headers(NatsMessages.headers(headers))
        .data(data.getBytes(StandardCharsets.UTF_8)).build();
    try (NatsSession nats = common.nats()) {
      Message reply = nats.await(nats.connection().request(request), "request to " + subject);
      System.out.println(common.json ? NatsMessages.json(reply).encode() : NatsMessages.text(reply));
      return ExitCode.OK;
    }
  }
}
