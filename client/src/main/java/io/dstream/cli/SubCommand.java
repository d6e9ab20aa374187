package io.dstream.cli;

import io.dstream.client.StreamConnection;
import io.dstream.pattern.TokenPattern;
import io.nats.client.Message;
import io.nats.client.Subscription;
import io.dstream.client.StreamMessage;
import io.dstream.client.SubscribeOptions;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "sub", mixinStandardHelpOptions = true,
    description = {"Subscribes and prints each message as it arrives, until --count messages arrived, --timeout-after",
        "ran out, or Ctrl-C.",
        "A SUBJECT replays its stream (protocol v1, from --from, --since or --last) and acknowledges what it prints:",
        "SEQUENCE<TAB>DATA, DATA alone with --raw, or the stored record with --json.",
        "A PATTERN (* one token, > the rest) or --queue follows live messages over NATS, from now on:",
        "SUBJECT<TAB>DATA, DATA alone with --raw, or {\"subject\",\"data\",\"headers\"} with --json."},
    footer = {"", "Examples:", "  dstream sub orders.eu --count 2", "  dstream sub orders.eu --last 10 --raw",
        "  dstream sub orders.eu --since 15m --json --timeout-after 5s", "  dstream sub 'orders.>' --count 5",
        "  dstream sub 'orders.*' --queue billing"})
final class SubCommand implements Callable<Integer> {

  /** How long one wait for a NATS message lasts, so --timeout-after is checked that often. */
  private static final Duration POLL = Duration.ofMillis(200);

  @Mixin
  CommonOptions common;

  @Parameters(index = "0", description = "Subject, or a pattern such as 'orders.>'")
  String subject;

  @Option(names = "--queue", paramLabel = "GROUP", description = "Join this NATS queue group: each message goes to one"
      + " of its members.")
  String queue;

  @Option(names = "--from", description = "Where to start: a sequence, 'first' (default) or 'new'.")
  String from;

  @Option(names = "--since", description = "Start at the first message published at or after TIME: an ISO-8601 instant"
      + " (2026-11-22T10:00:00Z), epoch milliseconds, or an age such as 90s, 15m, 2h, 1d.")
  String since;

  @Option(names = "--last", description = "Start with the last N messages.")
  Long last;

  @Option(names = "--raw", description = "Print only each message's data.")
  boolean raw;

  @Option(names = "--count", description = "Exit after this many messages.")
  Long count;

  @Option(names = "--timeout-after", description = "Exit with code 6 when no message arrived for this long (e.g. 10s).")
  String idleTimeout;

  @Override
  public Integer call() throws Exception {
    Duration idle = idleTimeout == null ? null : age(idleTimeout);
    long wanted = count == null ? Long.MAX_VALUE : count;
    if (wanted < 1) {
      throw new IllegalArgumentException("--count must be at least 1");
    }
    boolean pattern = subject.contains("*") || subject.contains(">");
    if (pattern || queue != null) {
      if (from != null || since != null || last != null) {
        throw new IllegalArgumentException("--from, --since and --last replay one subject's stream; a pattern or --queue"
            + " follows live messages over NATS");
      }
      TokenPattern.subjects(subject);
      return followNats(wanted, idle);
    }
    return replay(startOptions(), wanted, idle);
  }

  /** Follows live messages of a subject or pattern over NATS. */
  private int followNats(long wanted, Duration idle) {
    try (NatsSession nats = common.nats()) {
      Subscription subscription = nats.subscribe(subject, queue);
      long received = 0;
      long lastArrival = System.nanoTime();
      while (received < wanted) {
        Message message = nats.next(subscription, POLL);
        if (message != null) {
          System.out.println(NatsMessages.line(message, raw, common.json));
          received++;
          lastArrival = System.nanoTime();
        } else if (idle != null && System.nanoTime() - lastArrival >= idle.toNanos()) {
          return ExitCode.TIMEOUT;
        }
      }
      return ExitCode.OK;
    } finally {
      System.out.flush();
    }
  }

  /** Replays a subject's stream over protocol v1, acknowledging each message as it is printed. */
  private int replay(SubscribeOptions options, long wanted, Duration idle) throws InterruptedException {
    StreamConnection connection = common.connect(subject);
    if (last != null) {
      long lastSequence = CommonOptions.await(connection.info()).lastSequence();
      options = SubscribeOptions.builder().startSequence(Math.max(1, lastSequence - last + 1)).build();
    }
    CountDownLatch done = new CountDownLatch(1);
    AtomicLong received = new AtomicLong();
    connection.closeHandler(v -> done.countDown());
    try {
      CommonOptions.await(connection.subscribe(options, message -> {
        if (received.get() >= wanted) {
          return;
        }
        print(message);
        if (received.incrementAndGet() >= wanted) {
          done.countDown();
        }
      }));
      long seen = -1;
      while (done.getCount() > 0) {
        boolean finished = done.await(idle == null ? 1000 : idle.toMillis(), TimeUnit.MILLISECONDS);
        if (!finished && idle != null) {
          if (received.get() == seen) {
            return ExitCode.TIMEOUT;
          }
          seen = received.get();
        }
      }
      return received.get() >= wanted ? ExitCode.OK : ExitCode.FAILED;
    } finally {
      System.out.flush();
      CommonOptions.await(connection.close());
    }
  }

  private void print(StreamMessage message) {
    JsonObject record = message.json();
    System.out.println(common.json ? record.encode()
        : raw ? JsonArgs.text(message.data()) : message.sequence() + "\t" + JsonArgs.text(message.data()));
  }

  private SubscribeOptions startOptions() {
    if ((from != null ? 1 : 0) + (since != null ? 1 : 0) + (last != null ? 1 : 0) > 1) {
      throw new IllegalArgumentException("use one of --from, --since and --last");
    }
    if (last != null && last < 1) {
      throw new IllegalArgumentException("--last must be at least 1");
    }
    SubscribeOptions.Builder builder = SubscribeOptions.builder();
    if (since != null) {
      return builder.startTime(time(since)).build();
    }
    if (from == null || from.equals("first")) {
      return builder.build();
    }
    if (from.equals("new")) {
      return builder.startNew().build();
    }
    try {
      return builder.startSequence(Long.parseLong(from)).build();
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--from must be a sequence, 'first' or 'new', got '" + from + "'", e);
    }
  }

  /** ISO-8601 instant, epoch milliseconds, or an age before now. */
  static Instant time(String text) {
    if (text.matches("\\d{10,}")) {
      return Instant.ofEpochMilli(Long.parseLong(text));
    }
    if (text.matches("\\d+(ms|s|m|h|d)")) {
      return Instant.now().minus(age(text));
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("--since must be an ISO-8601 instant, epoch milliseconds or an age like 15m,"
          + " got '" + text + "'", e);
    }
  }

  /** An amount with a unit: 250ms, 90s, 15m, 2h, 1d. */
  static Duration age(String text) {
    Matcher matcher = Pattern.compile("(\\d+)(ms|s|m|h|d)").matcher(text);
    if (!matcher.matches()) {
      throw new IllegalArgumentException("expected a duration like 250ms, 90s, 15m, 2h or 1d, got '" + text + "'");
    }
    long amount = Long.parseLong(matcher.group(1));
    return switch (matcher.group(2)) {
      case "ms" -> Duration.ofMillis(amount);
      case "s" -> Duration.ofSeconds(amount);
      case "m" -> Duration.ofMinutes(amount);
      case "h" -> Duration.ofHours(amount);
      default -> Duration.ofDays(amount);
    };
  }
}
